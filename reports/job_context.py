"""What a job run gets (dependencies, business date, period) and the schedule file that names the jobs.

Kept apart from reports.jobs, which maps job names to the functions, so that the jobs themselves
(reports.statement_job, reports.housekeeping) import their context without importing the registry.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from claims.settings import Settings
from reports.periods import Period
from reports.statements import StatementConfig

JOB_DESCRIPTIONS = {
    "period_statements": "Issue each program's last closed period statements",
    "sla_sweep": "Flag overdue reviews; close returned claims not corrected in time",
    "breaker_evaluation": "Trip circuit breakers past their threshold",
    "budget_snapshot": "Record each program's budget position for the day; fails when the books do not balance",
    "webhook_delivery": "Send due webhook deliveries, signed; retry with back-off",
    "deadline_reminders": "Remind institutions of returned items about to close",
    "audit_checkpoint": "Verify the books (audit chain, ledger balances, payouts against their audited decisions), "
                        "then sign the chain's head (daily anchor for audit-verify); a break fails the run, unsigned",
    "simulation_runs": "Run what-if simulations no API instance is running (never taken, or their runner stopped)",
}


class UnknownJob(LookupError):
    """No job of that name exists."""


class JobFinding(Exception):
    """The job ran and found the books wrong: its run is recorded failed, with what it found and counted."""

    def __init__(self, message: str, counts: dict) -> None:
        super().__init__(message)
        self.counts = counts


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
        if name not in JOB_DESCRIPTIONS:
            raise UnknownJob(f"{path}: [jobs.{name}] names no job; known: {', '.join(sorted(JOB_DESCRIPTIONS))}")
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
