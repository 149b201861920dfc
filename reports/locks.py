"""One runner per job across processes and hosts: a PostgreSQL advisory lock, or a file lock on SQLite."""
from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name (advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(f"claims-job:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def job_lock(engine: Engine, name: str, lock_dir: Path) -> Iterator[bool]:
    """Try to take the job's lock without waiting; yields whether it was taken and holds it until exit.

    PostgreSQL: a session-level pg_try_advisory_lock on a connection of its own, so the lock spans the
    job's many transactions and dies with the process. SQLite serves one host, so an flock on a file
    next to the data does the same (it is per open file, so two threads of one process exclude too).
    """
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, name) as held:
            yield held
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _advisory_lock(engine: Engine, name: str) -> Iterator[bool]:
    connection = engine.connect()
    held = False
    try:
        # Advisory locks are per database, not per schema: name the schema so that deployments (or test
        # workers) sharing one database in separate schemas do not turn each other's jobs away.
        schema = connection.execute(text("SELECT current_schema()")).scalar()
        key = lock_key(f"{schema}:{name}")
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        connection.commit()  # the lock is session-level: it outlives this transaction, which must not idle open
        yield held
    finally:
        try:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
        finally:
            # Never hand a connection that might still hold the lock back to the pool.
            connection.invalidate()
            connection.close()
