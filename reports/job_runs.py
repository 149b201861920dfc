"""Use cases for scheduled jobs from the API: run one now, list past runs (admin)."""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from claims.auth import Principal
from claims.errors import Conflict, NotFound, Unprocessable
from claims.models import JobRun
from claims.paging import Page, PageRequest, fetch_page
from reports.jobs import JOBS, JobDeps, run_job
from reports.periods import PeriodError, parse_period


def run_job_now(*, principal: Principal, deps: JobDeps, name: str, today: date, period: str | None = None) -> JobRun:
    """Run a job synchronously under its lock (admin); 409 when another run of it holds the lock."""
    principal.require("admin")
    if name not in JOBS:
        raise NotFound(f"No job {name!r}.", extra={"jobs": sorted(JOBS)})
    try:
        parsed = parse_period(period) if period else None
    except PeriodError as exc:
        raise Unprocessable(str(exc), code="period_invalid", errors={"period": [str(exc)]}) from exc
    run = run_job(deps, name, trigger="api", today=today, period=parsed)
    if run.status == "skipped":
        raise Conflict(f"Another run of {name} is in progress.", code="job_running", extra={"run_id": run.id})
    return run


def list_job_runs(session: Session, *, principal: Principal, page: PageRequest, job: str | None = None,
                  status: str | None = None) -> Page[JobRun]:
    """Past and running job runs, newest first (admin)."""
    principal.require("admin")
    statement = select(JobRun)
    if job:
        statement = statement.where(JobRun.job == job)
    if status:
        statement = statement.where(JobRun.status == status)
    return fetch_page(session, statement.order_by(JobRun.id.desc()), page)
