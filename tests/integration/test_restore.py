"""Backup and restore (docs/deploy.md): pg_dump of the schema and a copy of the object store, restored into a new
schema and a new store; `claims audit-verify` and every statement's verify pass on the restored copy.

pg_dump writes schema-qualified names, so restoring into a schema of another name is the dump with that name
(unique to this test) substituted before psql replays it; a production restore into a fresh database replays
the dump unchanged.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import close_all_sessions
from sqlmodel import SQLModel, select

from claims.app import create_app
from claims.auth import issue_token
from claims.models import Statement, User
from claims.settings import ROOT
from reports.periods import parse_period
from tests.api.test_claim_lifecycle import pin_today
from tests.conftest import PG_URL, _drop_pg_schema, _pg_schema_url, make_test_app, postgres_reachable
from tests.helpers import Caller
from tests.integration.statement_history import build_history
from tests.servers import BIN, need

pytestmark = pytest.mark.postgres
PG = sa.engine.make_url(PG_URL)


def _pg_args() -> list[str]:
    return ["-h", PG.host or "127.0.0.1", "-p", str(PG.port or 5432), "-U", PG.username or "postgres",
            "-d", PG.database or "test"]


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        counts = {t.name: conn.execute(sa.text(f'SELECT count(*) FROM "{t.name}"')).scalar_one()
                  for t in SQLModel.metadata.sorted_tables}
    engine.dispose()
    return counts


@pytest.fixture
def source(tmp_path, demo_signing):
    """A PostgreSQL schema with a quarter's history and its statements issued, files in a local store."""
    need(f"PostgreSQL at {PG_URL.split('@')[-1]}", postgres_reachable())
    need("pg_dump and psql (postgresql-client)", bool(shutil.which("pg_dump") and shutil.which("psql")))
    schema = f"claims_restore_src_{os.getpid()}"
    url = _pg_schema_url(schema)
    from claims.migrate import upgrade

    upgrade(url)
    app = make_test_app(url, tmp_path / "source")
    session = app.extensions["claims"]["sessions"]()
    callers = {code: Caller({"X-API-Key": key}) for code, key in app.config["DEMO_KEYS"].items()}
    for user in session.exec(select(User)):
        callers[user.username] = Caller({"Authorization": f"Bearer {issue_token(session, user)}"}, user_id=user.id)
    session.commit()
    client = app.test_client()
    from tests.conftest import Institution  # noqa: F401 - not exported; institutions looked up below

    yield app, client, callers, session, schema, url
    session.close()
    close_all_sessions()
    app.extensions["claims"]["engine"].dispose()
    _drop_pg_schema(schema)
