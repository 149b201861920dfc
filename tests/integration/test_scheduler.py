"""The scheduler process and its jobs: locks across processes, crash recovery, SLA sweep, breakers, budget."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date, datetime

import pytest
from sqlmodel import select

from claims.models import AuditEvent, Claim, Decision, JobRun, Statement
from claims.settings import ROOT
from reports.jobs import JobDeps, business_today, run_job
from reports.periods import last_closed_period
from reports.scheduler import build_scheduler
from tests.api.test_claim_lifecycle import act, firm_on_no_list, pin_today, register
from tests.integration.statement_history import build_history
from tests.helpers import attach_required


@pytest.fixture
def deps(app):
    """The job dependencies of the test application."""
    return JobDeps.from_app(app)


def fresh(db, query):
    db.commit()
    db.expire_all()
    return list(db.exec(query))


def scheduler_process(app, database_url: str, *, script: str | None = None) -> subprocess.Popen:
    """`python -m reports.scheduler --once period_statements` against the test database and data directory."""
    env = {**os.environ, "CLAIMS_ENV": "test", "DATABASE_URL": database_url,
           "CLAIMS_DATA_DIR": str(app.extensions["claims"]["settings"].data_dir), "PYTHONPATH": str(ROOT)}
    command = ["-c", script] if script else ["-m", "reports.scheduler"]
    return subprocess.Popen([sys.executable, *command, "--once", "period_statements"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture
def last_quarter_history(app, client, callers, db):
    """Bank A's history placed in the quarter the scheduler will close (the last one before today)."""
    return build_history(app, client, callers, db, last_closed_period("quarter", business_today("Asia/Shanghai")))


def test_two_scheduler_processes_started_at_once_issue_each_statement_exactly_once(app, db, database_url,
                                                                                    last_quarter_history):
    processes = [scheduler_process(app, database_url) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    rows = fresh(db, select(Statement).order_by(Statement.scope))
    assert [(r.scope, r.version, r.status) for r in rows] == [
        (f"institution:{last_quarter_history.institution_id}", 1, "done"), ("program", 1, "done")]
    runs = fresh(db, select(JobRun).where(JobRun.job == "period_statements"))
    assert len(runs) == 2 and {r.trigger for r in runs} == {"startup"}
    # Either the second was turned away by the lock, or it ran after the first and found nothing changed.
    assert sum(r.counts.get("created", 0) for r in runs) == 2
    assert all(r.status == "skipped" or (r.status == "done") for r in runs), [(r.status, r.error) for r in runs]


def test_a_killed_scheduler_leaves_no_done_statement_and_the_next_run_completes(app, db, database_url, deps,
                                                                                 last_quarter_history):
    # The process dies (no clean-up, no rollback) while rendering its second statement.
    crash = textwrap.dedent("""
        import os, sys
        from reports import generation
        real, seen = generation.render_statement_bytes, []
        def render(statement):
            seen.append(statement.number)
            if len(seen) == 2:
                os._exit(137)
            return real(statement)
        generation.render_statement_bytes = render
        from reports.scheduler import main
        sys.exit(main(sys.argv[1:]))
    """)
    process = scheduler_process(app, database_url, script=crash)
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 137, output
    rows = fresh(db, select(Statement).order_by(Statement.scope))
    assert [r.status for r in rows] == ["done", "generating"]
    assert [r.status for r in fresh(db, select(JobRun))] == ["running"]

    rerun = run_job(deps, "period_statements", trigger="test")
    assert (rerun.status, rerun.counts["created"], rerun.counts["stale_replaced"]) == ("done", 1, 1)
    assert [(r.status, r.version) for r in fresh(db, select(Statement).order_by(Statement.scope))] == [
        ("done", 1), ("done", 1)]
    runs = fresh(db, select(JobRun).order_by(JobRun.id))
    assert [r.status for r in runs] == ["abandoned", "done"]
    assert "ended before finishing" in runs[0].error


def _claim_submitted(app, client, callers, db, contract_no: str, *, firm_index: int):
    """A claim of bank A submitted on 2026-09-30."""
    bank_a = callers["BANK_A"]
    pin_today(app, date(2026, 2, 1))
    firm = firm_on_no_list(db)[firm_index]
    loan = register(client, bank_a, contract_no=contract_no, enterprise_uscc=firm.uscc, principal="600000.00",
                    disbursed_on="2026-01-20", maturity_on="2027-01-19")
    pin_today(app, date(2026, 9, 30))
    client.post(f"/loans/{loan['id']}/status", json={"status": "overdue", "as_of": "2026-09-30",
                                                     "days_overdue": 100}, headers={**bank_a.headers, "If-Match": '"1"'})
    claim = client.post("/claims", json={"loan_id": loan["id"], "default_on": "2026-06-15",
                                         "outstanding_principal": "500000.00"}, headers=bank_a.headers).get_json()
    claim = attach_required(client, bank_a.headers, claim)
    return act(client, bank_a, claim, "submit")


def test_the_sla_sweep_flags_overdue_reviews_once_and_closes_claims_left_uncorrected(app, client, callers, db, deps):
    waiting = _claim_submitted(app, client, callers, db, "A-SLA-1", firm_index=3)
    returned = _claim_submitted(app, client, callers, db, "A-SLA-2", firm_index=4)
    returned = act(client, callers["reviewer1"], returned, "start_review")
    returned = act(client, callers["reviewer1"], returned, "return", reason="缺少催收记录")
    assert date.fromisoformat(waiting["stage_due_on"]) < date(2026, 12, 1)
    # The return happened on 9 October 2026 (the ledger and decisions stamp real time: date it).
    decision = fresh(db, select(Decision).where(Decision.subject_id == returned["id"], Decision.action == "return"))[0]
    decision.at = datetime(2026, 10, 9, 2, 0)
    db.add(decision)
    db.commit()

    holiday = run_job(deps, "sla_sweep", today=date(2026, 10, 5))
    assert holiday.counts == {"today": "2026-10-05", "working_day": False, "flagged": 0, "closed": 0}
    first = run_job(deps, "sla_sweep", today=date(2026, 12, 1))
    assert (first.status, first.counts["flagged"], first.counts["closed"]) == ("done", 1, 1)
    second = run_job(deps, "sla_sweep", today=date(2026, 12, 2))
    assert (second.counts["flagged"], second.counts["closed"]) == (0, 0)

    flags = fresh(db, select(AuditEvent).where(AuditEvent.action == "sla_overdue"))
    assert [(e.entity_id, e.data["stage"], e.data["due_on"]) for e in flags] == [
        (str(waiting["id"]), "first_review", waiting["stage_due_on"])]
    closed = db.get(Claim, returned["id"])
    assert closed.status == "withdrawn"
    last = fresh(db, select(Decision).where(Decision.subject_id == closed.id).order_by(Decision.id))[-1]
    assert (last.action, last.role, last.from_state, last.to_state) == ("close_uncorrected", "admin", "returned",
                                                                         "withdrawn")
    assert "未补正" in last.reason


def test_budget_snapshot_and_breaker_evaluation_record_their_counts(app, client, callers, db, deps):
    build_history(app, client, callers, db, last_closed_period("quarter", date(2026, 10, 9)))
    snapshot = run_job(deps, "budget_snapshot", today=date(2026, 11, 30))
    assert snapshot.counts["programs"] == {"sz-sme-pool": {
        "budget_fen": 100_000_000_00, "reserved_fen": 0, "paid_fen": 175_000_00, "recovered_fen": 10_000_00,
        "available_fen": 100_000_000_00 - 175_000_00}}
    assert snapshot.counts["trial_balance_fen"] == 0
    breakers = run_job(deps, "breaker_evaluation", today=date(2026, 11, 30))
    assert breakers.status == "done" and breakers.counts["evaluated"] >= 1 and breakers.counts["tripped"] == 0


def test_the_scheduler_runs_the_configured_jobs_in_shanghai_time_with_hours_of_grace(app):
    scheduler = build_scheduler(app, background=True)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["audit_checkpoint", "breaker_evaluation", "budget_snapshot", "deadline_reminders",
                            "period_statements", "simulation_runs", "sla_sweep", "webhook_delivery"]
    assert str(jobs["period_statements"].trigger.timezone) == "Asia/Shanghai"
    assert "day='1'" in str(jobs["period_statements"].trigger) and "hour='1'" in str(jobs["period_statements"].trigger)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("sla_sweep")
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (12 * 3600, True, 1)
    finally:
        scheduler.shutdown(wait=False)


def test_the_cli_runs_a_job_for_a_period_and_refuses_unknown_jobs(app, client, callers, db):
    from flask.cli import ScriptInfo

    from claims.cli import main
    from reports.periods import parse_period

    build_history(app, client, callers, db, parse_period("2026Q3"))
    runner = app.test_cli_runner()
    obj = ScriptInfo(create_app=lambda: app)
    done = runner.invoke(main, ["run-job", "period_statements", "--period", "2026Q3", "--today", "2026-10-09"], obj=obj)
    assert done.exit_code == 0, done.output
    assert ": done {" in done.output and "'created': 2" in done.output and "'period': '2026Q3'" in done.output
    unknown = runner.invoke(main, ["run-job", "payday"], obj=obj)
    assert unknown.exit_code == 1 and "no job 'payday'" in unknown.output
