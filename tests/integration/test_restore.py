"""Backup and restore as docs/deploy.md describes: pg_dump of the schema plus a copy of the object store, restored
into a new schema and a new store; `claims audit-verify` and every statement's verify pass on the restored copy.

pg_dump writes schema-qualified names, so restoring into a schema of another name is the dump with that name
(unique to this test) substituted before psql replays it; a restore into a fresh database replays it unchanged.
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
from tests.helpers import callers_of
from tests.integration.statement_history import build_history
from tests.servers import BIN, need

pytestmark = pytest.mark.postgres
PG = sa.engine.make_url(PG_URL)


def _psql_target() -> list[str]:
    return ["-h", PG.host or "127.0.0.1", "-p", str(PG.port or 5432), "-U", PG.username or "postgres",
            "-d", PG.database or "test"]


def _row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(sa.text(f'SELECT count(*) FROM "{t.name}"')).scalar_one()
                for t in SQLModel.metadata.sorted_tables}


@pytest.fixture
def schemas():
    """Names of a source and a restore schema, both dropped afterwards."""
    need(f"PostgreSQL at {PG_URL.split('@')[-1]}", postgres_reachable())
    need("pg_dump and psql (postgresql-client)", bool(shutil.which("pg_dump") and shutil.which("psql")))
    names = (f"claims_backup_src_{os.getpid()}", f"claims_backup_dst_{os.getpid()}")
    yield names
    close_all_sessions()
    for name in names:
        _drop_pg_schema(name)


def test_a_dump_and_a_store_copy_restore_into_a_new_schema_whose_audit_chain_and_statements_verify(
        schemas, tmp_path, demo_signing):
    source_schema, restored_schema = schemas
    url = _pg_schema_url(source_schema)
    from claims.migrate import upgrade

    upgrade(url)
    app = make_test_app(url, tmp_path / "source")
    session = app.extensions["claims"]["sessions"]()
    callers = callers_of(app, session)
    client = app.test_client()
    build_history(app, client, callers, session, parse_period("2026Q3"))
    pin_today(app, date(2026, 10, 9))
    run = client.post("/jobs/period_statements/run", json={"period": "2026Q3"}, headers=callers["admin"].headers)
    assert run.status_code == 200 and run.get_json()["counts"]["created"] == 2, run.get_json()
    source_counts = _row_counts(app.extensions["claims"]["engine"])
    session.close()
    app.extensions["claims"]["engine"].dispose()

    # Backup: the schema as SQL, and the object store (here the local one: its folder) copied beside it.
    dump = subprocess.run(["pg_dump", *_psql_target(), "--schema", source_schema, "--no-owner", "--no-privileges"],
                          capture_output=True, text=True, timeout=120, check=True).stdout
    store_copy = tmp_path / "restored"
    shutil.copytree(tmp_path / "source" / "var", store_copy, ignore=shutil.ignore_patterns(".staging", "locks"))
    assert source_schema in dump and restored_schema not in dump

    # Restore: replay the dump into the new schema (the source stays where it is, untouched).
    replayed = subprocess.run(["psql", *_psql_target(), "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                              input=dump.replace(source_schema, restored_schema), capture_output=True, text=True,
                              timeout=120)
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    sep = "&" if "?" in PG_URL else "?"
    restored_url = f"{PG_URL}{sep}options=-csearch_path%3D{restored_schema}"

    env = {**os.environ, "CLAIMS_ENV": "test", "DATABASE_URL": restored_url, "CLAIMS_DATA_DIR": str(store_copy),
           "PYTHONPATH": str(ROOT)}
    verified = subprocess.run([str(BIN / "claims"), "audit-verify"], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"audit chain intact: {source_counts['audit_event']} events")

    restored = create_app(app.extensions["claims"]["settings"].with_overrides(database_url=restored_url,
                                                                              data_dir=store_copy))
    try:
        assert _row_counts(restored.extensions["claims"]["engine"]) == source_counts
        restored.extensions["claims"]["today"] = date(2026, 10, 9)
        restored_session = restored.extensions["claims"]["sessions"]()
        auditor = restored_session.exec(select(User).where(User.username == "auditor1")).one()
        headers = {"Authorization": f"Bearer {issue_token(restored_session, auditor)}"}
        restored_session.commit()
        rows = restored_session.exec(select(Statement).order_by(Statement.id)).all()
        assert sorted(r.number for r in rows) == ["SZ-SME-POOL-2026Q3-ALL-v1", "SZ-SME-POOL-2026Q3-BANK_A-v1"]
        restored_client = restored.test_client()
        for row in rows:
            check = restored_client.get(f"/statements/{row.id}/verify", headers=headers).get_json()
            assert (check["file_intact"], check["content_current"], check["signature_trusted"], check["ok"]) == \
                (True, True, True, True), check
            assert check["actual_sha256"] == row.sha256
        # The check has teeth: one altered event in the restored copy and audit-verify names it.
        restored_session.execute(sa.text("UPDATE audit_event SET actor = 'someone-else' WHERE seq = 3"))
        restored_session.commit()
        restored_session.close()
        broken = subprocess.run([str(BIN / "claims"), "audit-verify"], env=env, cwd=ROOT, capture_output=True,
                                text=True, timeout=120)
        assert broken.returncode == 1 and "audit chain BROKEN at seq 3" in broken.stderr, broken.stdout + broken.stderr
    finally:
        close_all_sessions()
        restored.extensions["claims"]["engine"].dispose()
