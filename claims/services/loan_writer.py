"""The bulk writer: accepted loan rows straight to the driver's bulk path (COPY, executemany), in the session's transaction."""
from __future__ import annotations

import json

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from claims.models import Loan
from claims.models.base import utcnow
from claims.services.loan_registrar import LOAN_COLUMNS

# The bulk writer adds the creation time.
_INSERTED_COLUMNS = (*LOAN_COLUMNS, "created_at")


class LoanWriter:
    """Writes accepted rows a batch at a time on the session's connection, inside its transaction.

    The driver's own bulk path (COPY on PostgreSQL, sqlite3 executemany) is fed values already in
    the stored form; SQLAlchemy's per-row parameter processing cost more than checking the row.
    """

    def __init__(self, session: Session):
        self.session = session
        connection = session.connection()
        self.dialect = connection.dialect.name
        self.dbapi_error = connection.dialect.loaded_dbapi.Error
        self.driver = connection.connection.driver_connection

    def write(self, rows: list[tuple]) -> None:
        """Insert the rows (as check() returns them), stamped with one creation time for the batch."""
        if not rows:
            return
        created_at = utcnow()
        if self.dialect == "postgresql":
            statement = f"COPY loan ({', '.join(_INSERTED_COLUMNS)}) FROM STDIN"
            try:
                with self.driver.cursor() as cursor, cursor.copy(statement) as copy:
                    for v in rows:
                        copy.write_row((*v[:16], _json(v[16]), *v[17:], created_at))
            except self.dbapi_error as exc:
                raise self._wrapped(statement, exc) from exc
        elif self.dialect == "sqlite":
            statement = (f"INSERT INTO loan ({', '.join(_INSERTED_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(_INSERTED_COLUMNS))})")
            # The text forms SQLAlchemy's SQLite types store: ISO dates, "YYYY-MM-DD HH:MM:SS.ffffff".
            stamp = created_at.strftime("%Y-%m-%d %H:%M:%S.%f")
            try:
                self.driver.executemany(statement, [
                    (*v[:8], v[8].isoformat(), v[9].isoformat(), *v[10:16], _json(v[16]), *v[17:], stamp)
                    for v in rows])
            except self.dbapi_error as exc:
                raise self._wrapped(statement, exc) from exc
        else:
            self.session.execute(insert(Loan.__table__),
                                 [{**dict(zip(LOAN_COLUMNS, v, strict=True)), "created_at": created_at} for v in rows])

    def _wrapped(self, statement: str, exc: Exception) -> DBAPIError:
        # The same IntegrityError / DataError / OperationalError SQLAlchemy raises, so the API answers as before.
        return DBAPIError.instance(statement, None, exc, self.dbapi_error)


def _json(value: dict) -> str:
    return "{}" if not value else json.dumps(value)
