"""Engine, sessions and write transactions for SQLite (embedded) and PostgreSQL (production)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

_WRITE = "claims_write"


def make_engine(url: str, **kwargs) -> Engine:
    """Create the engine with the per-dialect set-up this application relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # SQLAlchemy's documented recipe: take transaction control away from pysqlite so that we can
    # emit BEGIN IMMEDIATE for writers; readers use a plain (deferred) BEGIN.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker:
    """Sessions that keep loaded objects usable after commit (views serialise after the service commits)."""
    return sessionmaker(engine, class_=Session, expire_on_commit=False, autoflush=True)


def begin_write(session: Session) -> None:
    """Open the use case's write transaction: BEGIN IMMEDIATE on SQLite so concurrent writers queue.

    Whatever the session read before (authentication, say) was read-only by convention; that
    transaction is ended first so the write starts from a fresh snapshot and cannot fail to upgrade.
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={_WRITE: True})


def lock_rows(session: Session, key: int) -> None:
    """Serialise writers on one named resource for the rest of the transaction (PostgreSQL advisory lock).

    On SQLite BEGIN IMMEDIATE already serialises all writers, so nothing more is needed.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


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
