"""The scheduler process (APScheduler 3): jobs and cron expressions from config/schedule.toml, local time.

Run it as its own process (`claims scheduler`, or `python -m reports.scheduler`); web workers never
start one. The dev server may embed a background one (settings.scheduler_embedded). Every run goes
through reports.jobs.run_job, so a second scheduler anywhere is a no-op: the job lock turns it away.
Defaults changed from APScheduler's: misfire grace of hours (not 1 s), coalesce, one instance per job.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from reports.jobs import JOBS, JobDeps, UnknownJob, run_job

log = logging.getLogger(__name__)


def _runner(app, deps: JobDeps, name: str, trigger: str):
    def run() -> None:
        # Jobs run outside any request: give them an app context as Flask extensions expect.
        with app.app_context():
            run_job(deps, name, trigger=trigger)

    return run


def build_scheduler(app, *, background: bool, scheduled: bool = True, once: tuple[str, ...] = ()) -> BaseScheduler:
    """A scheduler with the configured cron jobs (unless scheduled=False) and the `once` jobs due now."""
    deps = JobDeps.from_app(app)
    schedule = deps.schedule
    zone = ZoneInfo(schedule.timezone)
    kind = BackgroundScheduler if background else BlockingScheduler
    scheduler = kind(timezone=zone, job_defaults={"coalesce": True, "max_instances": 1,
                                                  "misfire_grace_time": schedule.misfire_grace_hours * 3600})
    if scheduled:
        for spec in schedule.jobs:
            if spec.enabled:
                scheduler.add_job(_runner(app, deps, spec.name, "schedule"),
                                  CronTrigger.from_crontab(spec.cron, timezone=zone), id=spec.name, name=spec.name,
                                  replace_existing=True)
    for name in once:
        if name not in JOBS:
            raise UnknownJob(f"no job {name!r}; known: {', '.join(sorted(JOBS))}")
        scheduler.add_job(_runner(app, deps, name, "startup"), DateTrigger(run_date=datetime.now(zone)),
                          id=f"once:{name}", name=name)
    return scheduler


def start_embedded(app) -> BackgroundScheduler:
    """Start a background scheduler inside the development server process."""
    scheduler = build_scheduler(app, background=True)
    scheduler.start()
    for job in scheduler.get_jobs():
        log.info("embedded scheduler: %s next at %s", job.name, job.next_run_time)
    return scheduler


def run_once(app, names: tuple[str, ...]) -> None:
    """Start a scheduler that fires the named jobs now and stop it once they have all finished."""
    scheduler = build_scheduler(app, background=True, scheduled=False, once=names)
    remaining = set(f"once:{n}" for n in names)
    finished = threading.Event()

    def _on_event(event) -> None:
        remaining.discard(event.job_id)
        if not remaining:
            finished.set()

    scheduler.add_listener(_on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    scheduler.start()
    finished.wait()
    scheduler.shutdown(wait=True)


def run_forever(app) -> None:
    """Run the configured jobs in the foreground until SIGINT or SIGTERM."""
    scheduler = build_scheduler(app, background=False)

    def _stop(signum, _frame) -> None:
        log.info("scheduler: signal %s, shutting down after running jobs finish", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, _stop)
    for job in scheduler.get_jobs():
        log.info("scheduler: %s (%s)", job.name, job.trigger)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m reports.scheduler [--once JOB]...`: the scheduler process, or a one-off firing of some jobs."""
    parser = argparse.ArgumentParser(prog="claims scheduler", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="append", default=[], metavar="JOB",
                        help="fire this job now and exit when it is done (repeatable); no cron jobs run")
    args = parser.parse_args(argv)
    from claims.app import create_app

    app = create_app()
    if args.once:
        run_once(app, tuple(args.once))
    else:
        run_forever(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
