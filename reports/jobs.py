"""Scheduled jobs and how each run is taken: under the job's lock, recorded as a job_run with its counts.

Jobs: period_statements (last closed period's statements), sla_sweep (overdue reviews flagged, returned
claims and applications not corrected in time closed), breaker_evaluation, budget_snapshot,
webhook_delivery (the event outbox sent to institutions), deadline_reminders (before a correction closes). A job is a function of a
JobContext returning counts; run_job adds the lock, the job_run row and the error handling.
"""
from __future__ import annotations

import logging
import socket
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import select

from claims.db import unit_of_work
from claims.models import JobRun
from claims.models.base import utcnow
from claims.settings import Settings
from reports import corrections, housekeeping, statement_job, webhooks
from reports.locks import job_lock
from reports.periods import Period
from reports.statements import StatementConfig

log = logging.getLogger(__name__)


class UnknownJob(LookupError):
    """No job of that name exists."""


@dataclass(frozen=True)
class JobSpec:
    """A job as the schedule file configures it."""

    name: str
    cron: str
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleConfig:
    """config/schedule.toml, read once."""

    timezone: str = "Asia/Shanghai"
    misfire_grace_hours: int = 12
    jobs: tuple[JobSpec, ...] = ()
    issuer: str = "市财政局"
    issuers: dict[str, str] = field(default_factory=dict)
    nil_statements: bool = False
    correction_working_days: int = 20

    def statement_config(self) -> StatementConfig:
        """Issuer and time zone for statements."""
        return StatementConfig(timezone=self.timezone, issuer=self.issuer, issuers=self.issuers)


def load_schedule(path: Path) -> ScheduleConfig:
    """Read the schedule file; unknown job names are an error at start-up, not at 01:30."""
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    jobs = []
    for name, spec in raw.get("jobs", {}).items():
        if name not in JOBS:
            raise UnknownJob(f"{path}: [jobs.{name}] names no job; known: {', '.join(sorted(JOBS))}")
        jobs.append(JobSpec(name=name, cron=spec["cron"], enabled=spec.get("enabled", True)))
    statements = raw.get("statements", {})
    return ScheduleConfig(timezone=raw.get("timezone", "Asia/Shanghai"),
                          misfire_grace_hours=int(raw.get("misfire_grace_hours", 12)), jobs=tuple(jobs),
                          issuer=statements.get("issuer", "市财政局"), issuers=dict(statements.get("issuers", {})),
                          nil_statements=bool(statements.get("nil_statements", False)),
                          correction_working_days=int(raw.get("sla", {}).get("correction_working_days", 20)))


@dataclass(frozen=True)
class JobDeps:
    """What every job needs from the application: database, program rules, settings, schedule."""

    engine: Engine
    sessions: sessionmaker
    registry: Any
    settings: Settings
    schedule: ScheduleConfig

    @classmethod
    def from_app(cls, app) -> "JobDeps":
        """Take the dependencies from a Flask app built by claims.app.create_app."""
        ext = app.extensions["claims"]
        return cls(engine=ext["engine"], sessions=ext["sessions"], registry=ext["programs"],
                   settings=ext["settings"], schedule=load_schedule(ext["settings"].schedule_file))


@dataclass(frozen=True)
class JobContext:
    """One run's inputs: dependencies, the business date and an optional period to (re)issue."""

    deps: JobDeps
    today: date
    period: Period | None = None


def business_today(timezone: str) -> date:
    """Today's date where the bureau is."""
    return datetime.now(ZoneInfo(timezone)).date()


JOBS: dict[str, tuple[Callable[[JobContext], dict], str]] = {
    "period_statements": (statement_job.period_statements, "Issue each program's last closed period statements"),
    "sla_sweep": (housekeeping.sla_sweep, "Flag overdue reviews; close returned claims not corrected in time"),
    "breaker_evaluation": (housekeeping.breaker_evaluation, "Trip circuit breakers past their threshold"),
    "budget_snapshot": (housekeeping.budget_snapshot, "Record each program's budget position for the day"),
    "webhook_delivery": (webhooks.webhook_delivery, "Send due webhook deliveries, signed; retry with back-off"),
    "deadline_reminders": (corrections.deadline_reminders, "Remind institutions of returned items about to close"),
    "audit_checkpoint": (housekeeping.audit_checkpoint, "Sign the audit chain's head (daily anchor for audit-verify)"),
}


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
