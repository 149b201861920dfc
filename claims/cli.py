"""The `claims` command: database, seeds, users and keys, audit, jobs, server and scheduler."""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup

from claims.app import create_app
from claims.cli_audit import audit_commands


def _factory():
    from claims.settings import SettingsError

    try:
        return create_app()
    except SettingsError as exc:
        # Fail closed with the reason and the fix, not a traceback.
        click.echo(f"claims: {exc}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_factory, add_default_commands=False)
def main() -> None:
    """Run and administer the claims backend (settings from config/settings.toml and CLAIMS_ENV)."""


def _ext():
    return current_app.extensions["claims"]


for _command in audit_commands.commands.values():  # claims audit-verify, audit-checkpoint, audit-reseal, audit-rekey
    main.add_command(_command)


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from claims.migrate import upgrade

    settings = _ext()["settings"]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    click.echo(f"database at head: {settings.database_url.split('@')[-1]}")


def _require_current_schema() -> None:
    # Code newer than the schema fails on its first query with a bare SQL error; say what to run instead.
    from claims.migrate import pending_revisions

    pending = pending_revisions(_ext()["settings"].database_url)
    if pending:
        raise click.ClickException(f"the database schema is behind the code (missing {', '.join(pending)}); "
                                   "run `claims init-db` first")


@main.command("seed")
@click.option("--demo/--no-demo", default=False, help="Also load demo staff, keys, loans and claims.")
def seed(demo: bool) -> None:
    """Load reference data (and demo data) idempotently."""
    if demo and _ext()["settings"].env == "production":
        # Demo staff passwords and API keys are published in the README: never on a production database.
        raise click.ClickException("seed --demo installs well-known passwords and API keys; it is refused "
                                   "in production (set CLAIMS_ENV=development for a demo)")
    _require_current_schema()
    from claims.db import unit_of_work
    from claims.services import seeding
    from workflows.rules import load_programs

    report = seeding.SeedReport()
    with unit_of_work(_ext()["sessions"]) as session:
        seeding.load_reference_data(session, report)
        seeding.sync_programs(session, load_programs(_ext()["settings"].programs_dir), report)
        if demo:
            seeding.load_demo_access(session, report)
            seeding.load_demo_admissions(session, report)
        seeding.record_seeding(session, report)
    click.echo("seeded: " + (", ".join(f"{k}={v}" for k, v in sorted(report.added.items())) or "nothing new"))
    settings = _ext()["settings"]
    if demo and settings.demo_signing and not settings.signing_p12:
        from reports.demo_ca import ensure_demo_credentials

        creds, created = ensure_demo_credentials(settings.data_dir)
        click.echo(f"demo signing certificate (DEMO, not a real seal) {'created' if created else 'kept'}: "
                   f"{creds.p12}; its CA for verification: {creds.ca_pem}")
    if demo:
        from claims.api.context import today
        from claims.services.demo import load_demo_activity

        session = _ext()["sessions"]()
        with session:
            activity = load_demo_activity(session, _ext()["programs"], today=today(), settings=_ext()["settings"])
        if activity.loans:
            click.echo(f"demo activity: {activity.loans} loans, claims by state {activity.claims}")
        for line in activity.skipped:
            click.echo(f"demo activity skipped {line}", err=True)
        from reports.jobs import JobDeps, load_demo_statements

        for label, run in zip(("last closed periods", "open period, interim"),
                              load_demo_statements(JobDeps.from_app(current_app), today=today()), strict=True):
            click.echo(f"demo statements ({label}): {run.status}, {run.counts.get('created', 0)} issued, "
                       f"{run.counts.get('unchanged', 0)} unchanged; list them at GET /statements")


@main.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--roles", required=True, help="Comma-separated: reviewer,approver,payer,admin,auditor")
@click.option("--programs", default="*", show_default=True,
              help="Comma-separated program codes the roles apply to, or * for every program")
@click.password_option(envvar="CLAIMS_NEW_USER_PASSWORD")
def create_user(username: str, display_name: str, roles: str, programs: str, password: str) -> None:
    """Create a staff user (the password policy applies)."""
    from claims.auth import SYSTEM
    from claims.errors import Problem
    from claims.services import users

    session = _ext()["sessions"]()
    with session:
        try:
            user = users.create_user(session, principal=SYSTEM, s=_ext()["settings"], username=username,
                                     display_name=display_name, password=password,
                                     roles=[r.strip() for r in roles.split(",") if r.strip()],
                                     programs=[p.strip() for p in programs.split(",") if p.strip()],
                                     known_programs=set(_ext()["programs"].programs()))
        except Problem as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(f"created user {user.username} (id {user.id}) with roles {user.roles} on programs {programs}")


@main.command("issue-key")
@click.option("--institution", "code", required=True, help="Institution code, e.g. BANK_A")
@click.option("--label", default="")
def issue_key(code: str, label: str) -> None:
    """Issue an API key for an institution and print it once."""
    from sqlmodel import select

    from claims.auth import SYSTEM
    from claims.models import Institution
    from claims.services import institutions

    session = _ext()["sessions"]()
    with session:
        institution = session.exec(select(Institution).where(Institution.code == code)).first()
        if institution is None:
            raise click.ClickException(f"no institution {code}")
        key, plaintext = institutions.issue_key(session, principal=SYSTEM, institution_id=institution.id,
                                                label=label)
    click.echo(f"prefix {key.prefix}\napi key (shown once): {plaintext}")


@main.command("revoke-key")
@click.argument("prefix")
def revoke_key(prefix: str) -> None:
    """Revoke an API key by its prefix."""
    from claims.auth import SYSTEM
    from claims.services import institutions

    session = _ext()["sessions"]()
    with session:
        institutions.revoke_key(session, principal=SYSTEM, prefix=prefix)
    click.echo(f"revoked {prefix}")


@main.command("scheduler")
@click.option("--once", multiple=True, metavar="JOB", help="Fire this job now and exit when done (repeatable).")
def scheduler(once: tuple[str, ...]) -> None:
    """Run the job scheduler in the foreground (jobs and cron from config/schedule.toml, Asia/Shanghai)."""
    _require_current_schema()
    from reports.scheduler import run_forever, run_once

    app = current_app._get_current_object()
    if once:
        run_once(app, once)
    else:
        run_forever(app)


@main.command("run-job")
@click.argument("name")
@click.option("--period", default=None, help="period_statements: 2026-09, 2026Q3 or 2026 instead of the last closed")
@click.option("--today", "business_date", default=None, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Business date to run as (default: today in Asia/Shanghai)")
def run_job_command(name: str, period: str | None, business_date) -> None:
    """Run one job now under its lock and print its job_run; exit 1 unless it finished."""
    _require_current_schema()
    from reports.jobs import JobDeps, UnknownJob, run_job
    from reports.periods import PeriodError, parse_period

    try:
        run = run_job(JobDeps.from_app(current_app), name, trigger="cli", period=parse_period(period) if period else None,
                      today=business_date.date() if business_date else None)
    except (UnknownJob, PeriodError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"job {run.job} run {run.id}: {run.status} {run.counts}" + (f" — {run.error}" if run.error else ""))
    if run.status != "done":
        sys.exit(1)


@main.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int)
def serve(host: str, port: int) -> None:
    """Run the development server (and the embedded scheduler when the settings say so)."""
    _require_current_schema()
    from claims.services.seeding import DEMO_USERS, demo_api_key
    from sqlmodel import select
    from claims.models import Institution

    settings = _ext()["settings"]
    session = _ext()["sessions"]()
    with session:
        institutions = list(session.exec(select(Institution).order_by(Institution.id)))
    base = f"http://{host}:{port}"
    click.echo(f"\n  Claims backend on {base}  —  API docs: {base}/docs  —  OpenAPI: {base}/openapi.json")
    click.echo(f"  Bureau console (财政局工作台): {base}/console/  —  staff log in there with the accounts the bureau gives them")
    if settings.env != "production":
        click.echo("  Demo institution API keys (header X-API-Key):")
        for institution in institutions:
            click.echo(f"    {institution.code:<12} {demo_api_key(institution.code)[1]}   {institution.name}")
        click.echo(f"  Demo staff (console at {base}/console/login, or POST /auth/token {{\"username\", \"password\"}}):")
        for username, display, roles, password in DEMO_USERS:
            click.echo(f"    {username:<10} {password:<22} {roles:<9} {display}")
    if settings.scheduler_embedded:
        from reports.scheduler import start_embedded

        start_embedded(current_app._get_current_object())
        click.echo("  Scheduler: embedded (jobs from config/schedule.toml; runs listed at GET /jobs/runs)")
    click.echo("")
    # Flask refuses app.run() inside its own CLI; werkzeug's server is what app.run() would start.
    import logging

    from werkzeug.serving import WSGIRequestHandler, run_simple

    class QuietHandler(WSGIRequestHandler):
        """No software versions in the Server header; the app logs one structured line per request instead."""

        server_version, sys_version = "claims", ""

        def version_string(self) -> str:
            return self.server_version

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False,
               request_handler=QuietHandler)


from claims.program_commands import COMMANDS as _PROGRAM_COMMANDS  # noqa: E402 - after main is defined

for _command in _PROGRAM_COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()
