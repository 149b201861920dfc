"""Writing a simulation's items in bulk: COPY on PostgreSQL, one executemany on SQLite, no ORM objects."""
from __future__ import annotations

from sqlmodel import Session

# The order of the tuples simulations._row makes; id is the table's own.
COLUMNS = ("simulation_id", "seq", "subject_type", "subject_id", "institution_id", "status", "history_on", "month",
           "category", "baseline_fen", "draft_fen", "delta_fen", "baseline_eligible", "draft_eligible",
           "baseline_binding", "draft_binding", "baseline_version_id", "usage")
_NAMES = ", ".join(f'"{name}"' for name in COLUMNS)  # "usage" is a keyword somewhere; quoted everywhere
_HISTORY_ON = COLUMNS.index("history_on")


def write_items(session: Session, rows: list[tuple]) -> None:
    """Insert item rows (tuples in COLUMNS order, usage as JSON text) in the session's open transaction."""
    if not rows:
        return
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        # COPY is the bulk path: one round trip, rows encoded by the driver's C dumpers.
        with raw.cursor() as cursor, cursor.copy(f"COPY simulation_item ({_NAMES}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    # SQLite stores a Date as its ISO text (as SQLAlchemy's Date does) and booleans as 0/1.
    marks = ", ".join("?" * len(COLUMNS))
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO simulation_item ({_NAMES}) VALUES ({marks})", [
            (*row[:_HISTORY_ON], row[_HISTORY_ON].isoformat(), *row[_HISTORY_ON + 1:]) for row in rows])
    finally:
        cursor.close()
