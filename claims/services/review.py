"""The one review engine: every workflow action on a claim or an application runs through `run_transition`.

One transition is one transaction: scope (the caller sees the item), version (If-Match), the program's
flow (role and guards), separation of duties, the cap locks, the recompute, the effects from a table
that refuses unknown names, the new state with its SLA clock, a decision row and an audit event —
committed together, or nothing at all. Claims and applications differ only in a `Reviewable`: how to
read one, compute it, which caps it locks, and what follows approval or payment.

Lock order (the same for every use case, so no two wait on each other in a cycle): the item's row,
then institution-year caps, enterprise caps, program-year caps, the budget row, the audit chain.
PostgreSQL runs READ COMMITTED (pinned in claims.db), so usage read after the locks is current; on
SQLite BEGIN IMMEDIATE already serialises every writer.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write, lock_key, lock_rows
from claims.errors import Conflict, Forbidden, PreconditionFailed, Unprocessable
from claims.models import Decision
from claims.models.base import utcnow
from claims.services import events, evidence
from claims.services.programs import loaded_rule
from claims.services.review_effects import Step, effect
from workflows.calendar import WorkCalendar
from workflows.flows import APPLICANT_ACTIONS, REVIEW_STAGE_NAMES, STAGE_OF_STATE, review_flow, \
    separation_refusals, stage_of_decision
from workflows.machine import Flow, Transition, TransitionError

CALENDAR = WorkCalendar()
HOLD_REASON = "合作机构熔断期间暂缓审批 (a circuit breaker holds the institution)"
DEFER_REASON = "合作机构熔断期间暂缓受理 (circuit breaker holds the institution)"


@dataclass(frozen=True)
class Reviewable:
    """What the engine needs of one kind of reviewable item (claim, application)."""

    subject_type: str
    noun: str
    get: Callable  # (session, *, principal, item_id, lock) -> item
    compute: Callable  # (session, registry, item, today) -> Computed
    cap_locks: Callable  # (session, item, rule, year) -> [lock name tuples], in the documented order
    breaker_holds: Callable  # (session, item) -> bool
    on_paid: Callable | None = None  # (session, item) -> None
    on_approved: Callable | None = None  # (session, item, rule, today, principal) -> None


def check_version(item, expected_version: int, noun: str) -> None:
    """412 unless the caller acts on the version it read."""
    if item.version != expected_version:
        raise PreconditionFailed(f"{noun.capitalize()} {item.id} is at version {item.version}, not {expected_version}; "
                                 f"read it again.", extra={"current_version": item.version})


def flush_versioned(session: Session, noun: str) -> None:
    """Flush, turning a concurrent change of the same row into 412."""
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise PreconditionFailed(f"The {noun} changed while you were acting on it; read it again.") from None


def translate(error: TransitionError) -> Exception:
    """A refused transition as the problem the caller gets."""
    if error.kind == "illegal":
        return Conflict(error.message, code="illegal_transition")
    if error.kind == "role":
        return Forbidden(error.message, code="role_not_allowed")
    codes = [r.code for r in error.refusals]
    for code in ("four_eyes", "separation_of_duties"):
        if code in codes:
            return Forbidden(error.message, code=code)
    errors: dict[str, list[str]] = {}
    for refusal in error.refusals:
        errors.setdefault(refusal.field or "item", []).append(f"{refusal.message} [{refusal.code}]")
    return Unprocessable(error.message, code=codes[0] if len(codes) == 1 else "transition_refused", errors=errors)


def flow_of(kind: Reviewable, rule) -> Flow:
    """The review flow a program gives this kind of item."""
    return review_flow(kind.subject_type, rule.review_stages)


def stage_actors(session: Session, kind: Reviewable, flow: Flow, item) -> dict[str, set[int]]:
    """Who has taken which review stage on this item, from its decisions."""
    actors: dict[str, set[int]] = {}
    rows = session.execute(select(Decision.action, Decision.from_state, Decision.user_id).where(
        Decision.subject_type == kind.subject_type, Decision.subject_id == item.id)).all()
    for action, from_state, user_id in rows:
        stage = stage_of_decision(flow, action, from_state)
        if stage and user_id is not None:
            actors.setdefault(stage, set()).add(user_id)
    return actors


def run_transition(session: Session, kind: Reviewable, *, principal: Principal, registry, item_id: int, action: str,
                   expected_version: int, today: date, reason: str = "", amount_fen: int | None = None,
                   documents_requested: list[dict] | None = None, voucher_no: str = ""):
    """Take one workflow action on an item: role-checked, guarded, locked, one transaction with decision, ledger, audit."""
    begin_write(session)
    item = kind.get(session, principal=principal, item_id=item_id, lock=True)
    check_version(item, expected_version, kind.noun)
    if principal.is_institution and action not in APPLICANT_ACTIONS:
        raise Forbidden(f"An institution may only {', '.join(APPLICANT_ACTIONS)} its own {kind.noun}s.",
                        code="role_not_allowed")
    rule = loaded_rule(session, registry, rule_version_id=item.rule_version_id)
    flow = flow_of(kind, rule)
    holds = kind.breaker_holds(session, item)
    context = {"actor_user_id": principal.user_id, "first_reviewer_id": item.first_reviewer_id,
               "amount_fen": amount_fen, "computed_fen": item.computed_fen, "reason": reason, "breaker_holds": holds}
    roles = principal.roles
    if action == "approve" and holds and item.status in REVIEW_STAGE_NAMES:
        # A breaker that tripped while the item was in review holds it here: deferred, with the reason recorded.
        action, reason, roles, amount_fen = "hold", HOLD_REASON, frozenset({"admin"}), None
        context["reason"] = reason
    try:
        transition = flow.plan(action, item.status, roles, context)
    except TransitionError as exc:
        raise translate(exc) from exc
    refusals = separation_refusals(transition.stage, principal.user_id, stage_actors(session, kind, flow, item),
                                   rule.distinct_stages)
    if refusals:
        raise Forbidden(refusals[0].message, code="separation_of_duties")
    apply_transition(session, kind, registry=registry, principal=principal, flow=flow, transition=transition,
                     item=item, rule=rule, today=today, reason=reason, amount_fen=amount_fen,
                     documents_requested=documents_requested, voucher_no=voucher_no)
    if transition.action in ("submit", "resubmit") and holds:
        defer = flow.plan("defer", item.status, {"admin"}, context)
        apply_transition(session, kind, registry=registry, principal=principal, flow=flow, transition=defer, item=item,
                         rule=rule, today=today, reason=DEFER_REASON, amount_fen=None)
    session.commit()
    return item


def apply_transition(session: Session, kind: Reviewable, *, registry, principal: Principal, flow: Flow,
                     transition: Transition, item, rule, today: date, reason: str, amount_fen: int | None,
                     documents_requested: list[dict] | None = None, voucher_no: str = "") -> None:
    """Carry out one planned transition: locks, effects, new state, SLA clock, decision, audit event, outbox event."""
    effects = [effect(name) for name in transition.effects]
    evidence.check_transition(session, subject_type=kind.subject_type, subject=item, rule=rule,
                              action=transition.action, documents_requested=documents_requested)
    step = Step(kind, session, registry, principal, item, rule, today, amount_fen, voucher_no)
    if "reserve_budget" in transition.effects:
        # Usage is read by the recompute below: take every cap level's lock first, in the documented order.
        for name in kind.cap_locks(session, item, rule, today.year):
            lock_rows(session, lock_key(*name))
    before = item.status
    for run in effects:
        run(step)
    item.status = transition.target
    if transition.action == "submit":
        item.submitted_at = utcnow()
    stage = STAGE_OF_STATE.get(item.status)
    sla = flow.sla_working_days.get(stage) if stage else None
    item.stage_due_on = CALENDAR.add_working_days(today, sla) if sla else None
    item.updated_at = utcnow()
    session.add(item)
    flush_versioned(session, kind.noun)
    allowed = principal.roles & transition.roles
    role = min(allowed) if allowed else "system"
    amount = step.decided_fen if step.decided_fen is not None else item.computed_fen
    session.add(Decision(subject_type=kind.subject_type, subject_id=item.id, actor=principal.actor,
                         user_id=principal.user_id if allowed else None, role=role, action=transition.action,
                         from_state=before, to_state=item.status, reason=reason, amount_fen=amount))
    record_event(session, actor=principal.actor, entity=kind.subject_type, entity_id=item.id, action=transition.action,
                 data={"from": before, "to": item.status, "reason": reason, "computed_fen": item.computed_fen,
                       "amount_fen": step.decided_fen, **({"voucher_no": voucher_no} if voucher_no else {})})
    corrections = evidence.record_transition(session, subject_type=kind.subject_type, subject=item,
                                             action=transition.action, documents_requested=documents_requested,
                                             actor=principal.actor)
    events.emit_transition(session, subject_type=kind.subject_type, subject=item, action=transition.action,
                           from_state=before, to_state=item.status, reason=reason, data=corrections)
    if transition.action == "approve" and kind.on_approved:
        kind.on_approved(session, item, rule, today, principal)
