"""Engine, sessions and write transactions for SQLite (embedded) and PostgreSQL (production)."""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

from claims.writer_queue import WriterTurn

_WRITE = "claims_write"
_WRITING = "claims_writing"  # session.info: the open transaction is a write transaction
_HELD = "claims_held"  # session.info: a unit of work holds the use case's commit until it ends
_TURN = "claims_writer_turn"  # session.info: this write transaction's place in SQLite's writer queue
SQLITE_BUSY_SECONDS = 30


class DatabaseBusy(Exception):
    """The writer lock could not be had in time; nothing was written (answered 503 with Retry-After)."""


class UnitOfWorkSession(Session):
    """A session whose use-case commit can be held by the unit of work that runs it.

    Services end a use case with `session.commit()`. Inside `held_unit_of_work` that call only flushes:
    the unit of work commits once at its end, together with what the caller adds after the use case
    (the Idempotency-Key's stored response), so a committed effect and its recorded answer are one fact.
    """

    def commit(self) -> None:
        """Commit, unless a unit of work holds the commit (then flush and leave it to the unit of work)."""
        if self.info.get(_HELD):
            self.flush()
            return
        super().commit()


@event.listens_for(UnitOfWorkSession, "after_transaction_end")
def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITING, None)
        turn = session.info.pop(_TURN, None)
        if turn is not None:
            turn.release()


def make_engine(url: str, **kwargs) -> Engine:
    """Create the engine with the per-dialect set-up this application relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs.setdefault("pool_pre_ping", True)
    # Pinned, not assumed: cap usage is read after its advisory locks are taken, and READ COMMITTED gives
    # each statement a fresh snapshot, so what a concurrent approval committed before the lock is seen.
    kwargs.setdefault("isolation_level", "READ COMMITTED")
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # SQLAlchemy's documented recipe: take transaction control away from pysqlite so that we can
    # emit BEGIN IMMEDIATE for writers; readers use a plain (deferred) BEGIN.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")  # writers outside the queue
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker:
    """Sessions that keep loaded objects usable after commit (views serialise after the service commits)."""
    return sessionmaker(engine, class_=UnitOfWorkSession, expire_on_commit=False, autoflush=True)


def begin_write(session: Session) -> None:
    """Open the use case's write transaction: BEGIN IMMEDIATE on SQLite so concurrent writers queue.

    Whatever the session read before (authentication, say) was read-only by convention; see end_read.
    """
    if session.info.get(_WRITING) and session.in_transaction():
        return  # already inside this unit of work's write transaction
    if not end_read(session):
        session.info[_WRITING] = True
        return
    turn = _queue_for_writer(session)
    try:
        session.connection(execution_options={_WRITE: True})
    except OperationalError as exc:
        if is_busy(exc):
            session.rollback()
            raise DatabaseBusy("the database writer lock was not had in time") from exc
        raise
    finally:
        if turn is not None and not session.in_transaction():
            session.info.pop(_TURN, None)
            turn.release()  # the transaction never began, so no transaction end will release it
    session.info[_WRITING] = True


def end_read(session: Session) -> bool:
    """End a read-only transaction where the database needs it; False when it goes on as the next one.

    On SQLite it is ended so that a write starts from a fresh snapshot and cannot fail to upgrade. On
    PostgreSQL (READ COMMITTED: every statement reads a fresh snapshot) it goes on, which saves a
    commit and a pool checkout (with its pre-ping) per request.
    """
    if not session.in_transaction():
        return True
    if session.get_bind().dialect.name == "postgresql":
        return False
    Session.commit(session)  # end it for real, even under a held unit of work
    return True


def _queue_for_writer(session: Session) -> WriterTurn | None:
    url = session.get_bind().url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    turn = WriterTurn(url.database, timeout=SQLITE_BUSY_SECONDS)
    if not turn.acquire():
        raise DatabaseBusy("the database writer lock was not had in time")
    session.info[_TURN] = turn
    return turn


def is_busy(error: OperationalError) -> bool:
    """Whether a driver error means the writer lock was not had (SQLite busy, PostgreSQL lock timeout)."""
    text_ = str(error.orig).lower()
    return "database is locked" in text_ or "database is busy" in text_ or "lock timeout" in text_


def lock_key(*parts: object) -> int:
    """A stable signed 64-bit advisory-lock key for a named resource, e.g. ("institution-year", code, id, 2026)."""
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_rows(session: Session, key: int) -> None:
    """Serialise writers on one named resource for the rest of the transaction (PostgreSQL advisory lock).

    On SQLite BEGIN IMMEDIATE already serialises all writers, so nothing more is needed.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ADVISORY_LOCK, {"key": key})


# Advisory locks belong to the database and the data to the schema: the key is hashed with the schema,
# so schemas sharing one database (tests, benchmarks, a restore beside production) never queue on each
# other's locks, at no extra round trip.
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || CAST(:key AS text), 0))")


@contextmanager
def held_unit_of_work(session: Session) -> Iterator[Session]:
    """Run a block as one write transaction on this session: commits inside it are held, one commit at the end.

    Locks are taken in one order by every use case, so two never wait on each other in a cycle:
    institution-year cap, enterprise caps, program-year cap, the budget row, the audit chain, then the ledger
    accounts whose balances a posting moves (claims.ledger.post takes the chain's lock before them).
    """
    session.info[_HELD] = True
    try:
        begin_write(session)
        yield session
        session.info.pop(_HELD, None)
        session.commit()
    except BaseException:
        session.info.pop(_HELD, None)
        session.rollback()
        raise


@contextmanager
def unit_of_work(factory: sessionmaker) -> Iterator[Session]:
    """A write session outside a request (CLI, jobs): commits on success, rolls back on any error."""
    session = factory()
    try:
        begin_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
