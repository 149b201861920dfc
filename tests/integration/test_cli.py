"""The `claims` command an operator uses: users, keys, audit verification."""
from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa
from flask.cli import ScriptInfo

from claims.cli import main
from tests.helpers import problem


def run(app, *args, env=None):
    """Invoke the CLI against the test application."""
    runner = app.test_cli_runner()
    return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app), env=env)


def test_create_user_issue_key_and_revoke_key(app, client):
    created = run(app, "create-user", "--username", "reviewer9", "--name", "初审员 周九", "--roles", "reviewer",
                  env={"CLAIMS_NEW_USER_PASSWORD": "a-long-enough-password"})
    assert created.exit_code == 0, created.output
    login = client.post("/auth/token", json={"username": "reviewer9", "password": "a-long-enough-password"})
    assert login.status_code == 200 and login.get_json()["roles"] == ["reviewer"]

    issued = run(app, "issue-key", "--institution", "BANK_D", "--label", "core-banking")
    assert issued.exit_code == 0, issued.output
    key = issued.output.split("api key (shown once): ")[1].strip()
    listed = client.get("/institutions", headers={"X-API-Key": key}).get_json()
    assert [i["code"] for i in listed] == ["BANK_D"]

    prefix = issued.output.split("prefix ")[1].split()[0]
    revoked = run(app, "revoke-key", prefix)
    assert revoked.exit_code == 0, revoked.output
    problem(client.get("/institutions", headers={"X-API-Key": key}), 401, "api_key_revoked")


def test_audit_verify_exits_1_naming_the_broken_link(app, db):
    assert run(app, "audit-verify").exit_code == 0
    db.execute(sa.text("UPDATE audit_event SET actor = 'mallory' WHERE seq = (SELECT MAX(seq) FROM audit_event)"))
    db.commit()
    last = db.execute(sa.text("SELECT MAX(seq) FROM audit_event")).scalar()
    broken = run(app, "audit-verify")
    assert broken.exit_code == 1
    assert f"BROKEN at seq {last}" in broken.output


def test_ci_fails_instead_of_skipping_when_postgres_is_unreachable(tmp_path):
    env = {**os.environ, "CI": "true", "TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:9/test"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "--co", "-q",
                             "tests/unit/test_money.py"], env=env, capture_output=True, text=True, timeout=120,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert result.returncode != 0
    assert "CI requires PostgreSQL" in result.stdout + result.stderr


def test_commands_refuse_a_schema_behind_the_code_and_name_the_fix(tmp_path):
    from claims.app import create_app
    from claims.migrate import upgrade
    from claims.settings import load_settings

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0003_claim_queue_indexes")
    old = create_app(load_settings("test").with_overrides(database_url=url, data_dir=tmp_path / "var"))
    refused = run(old, "run-job", "sla_sweep")
    assert refused.exit_code == 1
    # Named by the newest revision the database lacks (the chain's head), whichever that is now.
    assert "schema is behind the code (missing 00" in refused.output.replace("\n", " ")
    assert "claims init-db" in refused.output
    assert run(old, "init-db").exit_code == 0
    assert "missing" not in run(old, "run-job", "sla_sweep").output
    old.extensions["claims"]["engine"].dispose()


def test_seed_demo_takes_claims_to_every_state_and_issues_statements_once(app, client, db):
    from datetime import date

    from claims.audit import verify_chain
    from claims.ledger import trial_balance
    from claims.models import Claim, Statement
    from tests.api.test_claim_lifecycle import pin_today

    pin_today(app, date(2026, 11, 23))
    first = run(app, "seed", "--demo")
    assert first.exit_code == 0, first.output
    assert "demo activity: 14 loans" in first.output
    states = sorted(c.status for c in db.exec(sa.select(Claim)).scalars())
    assert states == sorted(["paid", "paid", "approved", "second_review", "first_review", "returned", "submitted",
                             "submitted", "draft", "rejected", "withdrawn", "deferred"])
    # 2026Q3 (the last closed quarter) is nil for every admitted bank; the open quarter's interim statements
    # carry the paid claims: BANK_A's claim 1 paid and its recovery, BANK_B's claim paid, and the summary.
    assert "(open period, interim): done, 3 issued" in first.output
    with_lines = {s.number: s.totals["lines"] for s in db.exec(sa.select(Statement)).scalars()
                  if s.totals["lines"]}
    assert with_lines == {"SZ-SME-POOL-2026Q4-BANK_A-v1": 2, "SZ-SME-POOL-2026Q4-BANK_B-v1": 1,
                          "SZ-SME-POOL-2026Q4-ALL-v1": 3}
    again = run(app, "seed", "--demo")
    assert "0 issued, 40 unchanged" in again.output and "0 issued, 3 unchanged" in again.output
    db.rollback()
    assert trial_balance(db) == 0
    assert verify_chain(db).ok
