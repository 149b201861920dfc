"""Scheduled jobs and how each run is taken: under the job's lock, recorded as a job_run with its counts.

Jobs: period_statements (last closed period's statements), sla_sweep (overdue reviews flagged, returned
claims and applications not corrected in time closed), breaker_evaluation, budget_snapshot,
webhook_delivery (the event outbox sent to institutions), deadline_reminders (before a correction closes),
audit_checkpoint, simulation_runs (what-if runs no API thread holds). A job is a function of a JobContext
returning counts; run_job adds the lock, the job_run row and the error handling.
"""
from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from sqlmodel import select

from claims.db import unit_of_work
from claims.models import JobRun
from claims.models.base import utcnow
from claims.services.demo import DEMO_PROGRAM
from reports import corrections, housekeeping, statement_job, webhooks
from reports.job_context import (JOB_DESCRIPTIONS, JobContext, JobDeps, JobFinding, UnknownJob, business_today,
                                 load_schedule)
from reports.locks import job_lock
from reports.periods import Period, period_containing

log = logging.getLogger(__name__)


_FUNCTIONS: dict[str, Callable[[JobContext], dict]] = {
    "period_statements": statement_job.period_statements,
    "sla_sweep": housekeeping.sla_sweep,
    "breaker_evaluation": housekeeping.breaker_evaluation,
    "budget_snapshot": housekeeping.budget_snapshot,
    "webhook_delivery": webhooks.webhook_delivery,
    "deadline_reminders": corrections.deadline_reminders,
    "audit_checkpoint": housekeeping.audit_checkpoint,
    "simulation_runs": housekeeping.simulation_runs,
}
JOBS: dict[str, tuple[Callable[[JobContext], dict], str]] = {
    name: (function, JOB_DESCRIPTIONS[name]) for name, function in _FUNCTIONS.items()}
__all__ = ["JOBS", "JobContext", "JobDeps", "UnknownJob", "business_today", "job_description", "job_names",
           "load_demo_statements", "load_schedule", "run_job"]


def run_job(deps: JobDeps, name: str, *, trigger: str = "schedule", today: date | None = None,
            period: Period | None = None) -> JobRun:
    """Run one job now under its lock and return its job_run (status done, failed, or skipped when held elsewhere)."""
    if name not in JOBS:
        raise UnknownJob(f"no job {name!r}; known: {', '.join(sorted(JOBS))}")
    job, _ = JOBS[name]
    today = today or business_today(deps.schedule.timezone)
    lock_dir = deps.settings.data_dir / "locks"
    with job_lock(deps.engine, name, lock_dir) as held:
        if not held:
            log.info("job %s: another run holds the lock; skipping", name)
            return _record(deps, JobRun(job=name, host=socket.gethostname(), trigger=trigger, status="skipped",
                                        finished_at=utcnow(), error="another run of this job holds its lock"))
        _abandon_dead_runs(deps, name)
        run = _record(deps, JobRun(job=name, host=socket.gethostname(), trigger=trigger, status="running",
                                   counts={"today": today.isoformat(), **({"period": period.code} if period else {})}))
        try:
            counts = job(JobContext(deps=deps, today=today, period=period))
        except JobFinding as exc:
            log.error("job %s found: %s", name, exc)
            return _finish(deps, run.id, status="failed", counts=exc.counts, error=str(exc)[:2000])
        except Exception as exc:  # noqa: BLE001 - a failed run is recorded, never lost
            log.exception("job %s failed", name)
            return _finish(deps, run.id, status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        return _finish(deps, run.id, status="done", counts=counts)


def _record(deps: JobDeps, run: JobRun) -> JobRun:
    with unit_of_work(deps.sessions) as session:
        session.add(run)
        session.flush()
        session.refresh(run)
    return run


def _finish(deps: JobDeps, run_id: int, *, status: str, counts: dict | None = None, error: str = "") -> JobRun:
    with unit_of_work(deps.sessions) as session:
        run = session.get(JobRun, run_id)
        run.status, run.finished_at, run.error = status, utcnow(), error
        if counts is not None:
            run.counts = {**run.counts, **counts}
        session.add(run)
        session.flush()
        session.refresh(run)
    return run


def _abandon_dead_runs(deps: JobDeps, name: str) -> None:
    # Holding the lock proves no other run of this job is alive: a "running" row is a crashed run's.
    with unit_of_work(deps.sessions) as session:
        for run in session.exec(select(JobRun).where(JobRun.job == name, JobRun.status == "running")):
            run.status, run.finished_at = "abandoned", utcnow()
            run.error = "the process running this job ended before finishing it"
            session.add(run)


def job_names() -> list[str]:
    """Every job name, sorted."""
    return sorted(JOBS)


def job_description(name: str) -> str:
    """One line on what the job does."""
    if name not in JOBS:
        raise UnknownJob(f"no job {name!r}")
    return JOBS[name][1]


def load_demo_statements(deps, *, today: date):
    """Issue the demo's statements: the last closed periods (nil ones too), then the demo program's open one.

    The ledger dates postings when they are made, so the demo's activity lands in the open period: its
    interim statement is the one with lines (the period-end run supersedes it). Goes through the job
    runner, so it takes the job lock, records a job_run and is idempotent: a second `claims seed --demo`
    finds the same content and issues nothing new. Returns the two job runs.
    """
    with_nil = replace(deps, schedule=replace(deps.schedule, nil_statements=True))
    closed = run_job(with_nil, "period_statements", trigger="seed", today=today)
    current = period_containing(statement_job.settlement_kind(deps.registry, DEMO_PROGRAM, today), today)
    return closed, run_job(deps, "period_statements", trigger="seed", today=today, period=current)
