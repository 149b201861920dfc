"""The daily jobs besides statements: SLA sweep, circuit-breaker evaluation, budget snapshot."""
from __future__ import annotations

from sqlmodel import select

from claims import ledger
from claims.audit import record_event
from claims.auth import SYSTEM
from claims.books import ledger_findings, verify_books
from claims.db import unit_of_work
from claims.errors import Problem
from claims.models import Admission, AuditEvent, Claim
from claims.services import breakers
from claims.services.applications import transition_application
from claims.services.claims import transition_claim
from reports.corrections import SUBJECTS, returned_items
from reports.job_context import JobContext, JobFinding
from workflows.calendar import WorkCalendar
from workflows.flows import STAGE_OF_STATE
from workflows.rules import NoRuleInForce

CALENDAR = WorkCalendar()
CLOSE_ACTION = "close_uncorrected"


def sla_sweep(ctx: JobContext) -> dict:
    """On working days: flag claims past their stage's SLA (once per claim, stage and due date) and close
    returned claims left uncorrected longer than the correction window (逾期未补正视为撤回)."""
    if not CALENDAR.is_working_day(ctx.today):
        return {"working_day": False, "flagged": 0, "closed": 0}
    return {"working_day": True, "flagged": _flag_overdue(ctx), **_close_uncorrected(ctx)}


def _flag_overdue(ctx: JobContext) -> int:
    flagged = 0
    with unit_of_work(ctx.deps.sessions) as session:
        seen = {(e.entity_id, e.data.get("stage"), e.data.get("due_on")) for e in session.exec(
            select(AuditEvent).where(AuditEvent.entity == "claim", AuditEvent.action == "sla_overdue"))}
        overdue = session.exec(select(Claim).where(Claim.stage_due_on < ctx.today,
                                                   Claim.status.in_(tuple(STAGE_OF_STATE))).order_by(Claim.id))
        for claim in overdue:
            stage, due_on = STAGE_OF_STATE[claim.status], claim.stage_due_on.isoformat()
            if (str(claim.id), stage, due_on) in seen:
                continue
            record_event(session, actor="system:scheduler", entity="claim", entity_id=claim.id, action="sla_overdue",
                         data={"stage": stage, "due_on": due_on, "status": claim.status,
                               "working_days_late": CALENDAR.working_days_between(claim.stage_due_on, ctx.today)})
            flagged += 1
    return flagged


def _close_uncorrected(ctx: JobContext) -> dict:
    schedule = ctx.deps.schedule
    with ctx.deps.sessions() as session:
        due = [item for subject_type in SUBJECTS
               for item in returned_items(session, ctx.deps.registry, subject_type=subject_type,
                                          timezone=schedule.timezone, default_window=schedule.correction_working_days)
               if ctx.today >= item.closes_on]
    closed, refused = 0, 0
    for item in due:
        late = CALENDAR.working_days_between(item.returned_on, ctx.today)
        transition = transition_claim if item.subject_type == "claim" else transition_application
        with ctx.deps.sessions() as session:
            try:
                transition(session, principal=SYSTEM, registry=ctx.deps.registry, action=CLOSE_ACTION,
                           expected_version=item.version, today=ctx.today,
                           reason=f"退回后{late}个工作日未补正（期限{item.window}个工作日），视为撤回",
                           **{f"{item.subject_type}_id": item.id})
                closed += 1
            except Problem:
                # Corrected or changed since it was read: it is no longer a returned item to close.
                session.rollback()
                refused += 1
    return {"closed": closed, "changed_meanwhile": refused}


def breaker_evaluation(ctx: JobContext) -> dict:
    """Evaluate every program's circuit breaker for every active admission; trips are audited."""
    evaluated, tripped = 0, 0
    registry = ctx.deps.registry
    with unit_of_work(ctx.deps.sessions) as session:
        for code in registry.programs():
            try:
                rule = registry.rule_for(code, ctx.today)
            except NoRuleInForce:
                continue
            if rule.breaker is None:
                continue
            for admission in session.exec(select(Admission).where(Admission.program_code == code,
                                                                  Admission.status == "active")).all():
                evaluated += 1
                if breakers.evaluate_breaker(session, rule=rule, institution_id=admission.institution_id,
                                             year=ctx.today.year, actor="system:scheduler"):
                    tripped += 1
    return {"evaluated": evaluated, "tripped": tripped}


def budget_snapshot(ctx: JobContext) -> dict:
    """Each program's budget position for the current fiscal year, kept on the job run, and the trial balance;
    the run fails (JobFinding) when the entries do not sum to zero or an account's balance is not their sum."""
    year = ctx.today.year
    programs = {}
    with ctx.deps.sessions() as session:
        for code in ctx.deps.registry.programs():
            for position in ledger.budget_positions(session, program_code=code):
                if position.year == year:
                    programs[code] = {"budget_fen": position.budget_fen, "reserved_fen": position.reserved_fen,
                                      "paid_fen": position.paid_fen, "recovered_fen": position.recovered_fen,
                                      "available_fen": position.available_fen}
        trial = ledger.trial_balance(session)
        unbalanced = ledger.unbalanced_accounts(session)
    counts = {"year": year, "programs": programs, "trial_balance_fen": trial,
              "unbalanced_accounts": [code for code, _, _ in unbalanced]}
    findings = ledger_findings(unbalanced, trial)
    if findings:
        raise JobFinding("；".join(findings), counts)
    return counts


def audit_checkpoint(ctx: "JobContext") -> dict:
    """Verify the books (claims.books.verify_books), then sign the chain's current head (so
    deleting events up to it is caught by `claims audit-verify`); a break fails the run, and is not signed."""
    from claims.audit import write_checkpoint

    with ctx.deps.sessions() as session:
        report = verify_books(session)
    if not report.ok:
        raise JobFinding("；".join([*report.findings(), "未签署检查点"]),
                         {"events_verified": report.chain.checked, "broken_seq": report.chain.first_broken_seq})
    with unit_of_work(ctx.deps.sessions) as session:
        checkpoint = write_checkpoint(session)
        return {"checkpoint_id": checkpoint.id, "seq": checkpoint.seq, "events": checkpoint.count,
                "events_verified": report.chain.checked}


def simulation_runs(ctx: "JobContext") -> dict:
    """Run the what-if simulations no API thread is running: never taken, or left by a runner that stopped."""
    from claims.services.simulations import resume_simulations

    return resume_simulations(ctx.deps.sessions, ctx.deps.registry)
