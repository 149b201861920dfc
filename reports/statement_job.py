"""The period_statements job: each program's last closed period, per institution and the bureau's summary."""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import select

from claims.models import Admission
from claims.storage import store_for
from reports import signing
from reports.fonts import register_cjk_font
from reports.generation import GenerationCounts, Renderer, Sealer, generate
from reports.job_context import JobContext, JobDeps
from reports.pdf import RenderInfo
from reports.periods import Period, last_closed_period
from reports.statement_model import Statement
from reports.statements import iter_period


def settlement_kind(registry, program_code: str, today) -> str:
    """How often the program settles (month, quarter, year): per the version in force today, else the latest."""
    versions = registry.versions(program_code)
    in_force = [r for r in versions if r.in_force_on(today)]
    return (in_force or versions)[-1].settlement_period


def statement_sealer(settings, *, timezone: str) -> Sealer:
    """Sign each issued statement with the bureau's certificate, the seal over the issuer's seal box."""
    creds = signing.credentials(settings)

    def seal(statement: Statement, data: bytes, info: RenderInfo) -> bytes:
        if info.seal is None:
            raise ValueError(f"statement {statement.number} has no seal box to sign in")
        return signing.sign_statement(data, creds=creds, seal=info.seal, issuer=statement.issuer,
                                      reason=f"{statement.title} {statement.number} 出具", timezone=timezone)
    return seal


def issue_program_period(deps: JobDeps, *, program_code: str, period: Period, today,
                         counts: GenerationCounts, render: Renderer | None = None) -> None:
    """Bring every statement of one program and period up to date (idempotent; run under the job lock)."""
    versions = deps.registry.versions(program_code)
    if not any(r.effective_from <= period.end and (r.effective_to is None or r.effective_to >= period.start)
               for r in versions):
        return
    sealer = statement_sealer(deps.settings, timezone=deps.schedule.timezone)
    with deps.sessions() as session:
        idle = ()
        if deps.schedule.nil_statements:
            idle = tuple(session.exec(select(Admission.institution_id)
                                      .where(Admission.program_code == program_code)).all())
        # Streamed: each institution's statement is generated (its own transactions, other connections) while
        # the scan's read transaction stays open on this one, so memory holds one institution at a time.
        for item in iter_period(session, registry=deps.registry, program_code=program_code, period=period,
                                issue_date=today, config=deps.schedule.statement_config(), include_idle=idle):
            generate(deps.sessions, item, issue_date=today, store=store_for(deps.settings),
                     counts=counts, seal=sealer, render=render)


@contextmanager
def _held_objects_frozen() -> Iterator[None]:
    """Leave what the process already holds (app, rules, modules, the font) out of the run's garbage collections."""
    # A statement run allocates millions of short-lived objects, and every full collection also walked the
    # hundreds of thousands the process held before it: 3.2 of 23.8 s at 50,000 lines. None of them become
    # garbage during the run, so freezing them changes what is collected, not whether.
    register_cjk_font()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def period_statements(ctx: JobContext, *, render: Renderer | None = None) -> dict:
    """Issue the last closed period's statements of every program (or the given period, for programs of its kind)."""
    with _held_objects_frozen():
        return _issue_periods(ctx, render)


def _issue_periods(ctx: JobContext, render: Renderer | None) -> dict:
    counts = GenerationCounts()
    programs = 0
    for code in ctx.deps.registry.programs():
        kind = settlement_kind(ctx.deps.registry, code, ctx.today)
        if ctx.period is not None and ctx.period.kind != kind:
            continue
        period = ctx.period or last_closed_period(kind, ctx.today)
        before = counts.created + counts.unchanged
        issue_program_period(ctx.deps, program_code=code, period=period, today=ctx.today, counts=counts, render=render)
        programs += (counts.created + counts.unchanged) > before
    return {**counts.as_dict(), "programs": programs}
