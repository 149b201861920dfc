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

from claims import ledger
from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write, lock_key, lock_rows
from claims.errors import Conflict, Forbidden, PreconditionFailed, Unprocessable
from claims.models import Decision
from claims.models.base import utcnow
from claims.services import events, evidence
from claims.services.programs import loaded_rule
from workflows.calendar import WorkCalendar
from workflows.flows import APPLICANT_ACTIONS, REVIEW_STAGE_NAMES, STAGE_OF_STATE, review_flow, \
    separation_refusals, stage_of_decision
from workflows.machine import Flow, Transition, TransitionError
from workflows.money import format_fen

CALENDAR = WorkCalendar()
HOLD_REASON = "合作机构熔断期间暂缓审批 (a circuit breaker holds the institution)"
DEFER_REASON = "合作机构熔断期间暂缓受理 (circuit breaker holds the institution)"


@dataclass(frozen=True)
class Computed:
    """A recomputed amount and, when a cap bound it, that cap's name and trace step."""

    amount_fen: int
    binding_cap: str | None = None
    binding_step: dict | None = None


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


class AmountChanged(Conflict):
    """The recompute at approval differs from the amount the approver saw: confirm the new one explicitly."""

    code, title = "amount_changed", "The computed amount changed"


class CapExhausted(Unprocessable):
    """A cap has no room left for this item: nothing can be approved under it."""

    code, title = "cap_exhausted", "Cap exhausted"


def binding_step(trace: list[dict], cap: str | None) -> dict | None:
    """The trace step of the cap that bound, if any."""
    if not cap:
        return None
    name = f"cap:{cap}"
    return next((step for step in trace if step.get("step") == name), None)


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


class _Step:
    """What one transition's effects have decided so far."""

    def __init__(self, kind: Reviewable, session: Session, registry, principal: Principal, item, rule, today: date,
                 amount_fen: int | None, voucher_no: str = ""):
        self.kind, self.session, self.registry, self.principal = kind, session, registry, principal
        self.item, self.rule, self.today, self.amount_fen = item, rule, today, amount_fen
        self.voucher_no = voucher_no  # the treasury's payment voucher, booked on the pay posting
        self.shown_fen = item.computed_fen  # what the caller saw at the version it sent
        self.computed: Computed | None = None
        self.decided_fen: int | None = None


def _compute(step: _Step) -> None:
    step.computed = step.kind.compute(step.session, step.registry, step.item, step.today)


def _mark_first_reviewer(step: _Step) -> None:
    step.item.first_reviewer_id = step.principal.user_id


def _decide_amount(step: _Step) -> int:
    item, computed = step.item, step.computed or Computed(step.item.computed_fen)
    new, wanted = item.computed_fen, step.shown_fen if step.amount_fen is None else step.amount_fen
    ledger_year = step.today.year
    if computed.binding_cap == "program_budget" and (wanted > new or not new):
        raise ledger.BudgetExceeded(
            f"The {ledger_year} budget of {item.program_code} has {format_fen(new)} available; "
            f"{format_fen(wanted)} cannot be reserved.", extra={"available": format_fen(new),
                                                               "requested": format_fen(wanted)})
    if new == 0:
        if computed.binding_cap and computed.binding_cap != "requested":
            detail = (computed.binding_step or {}).get("detail") or {}
            raise CapExhausted(f"Cap {computed.binding_cap} has no room left for {step.kind.noun} {item.id}; "
                               f"nothing can be approved under it.",
                               extra={"cap": computed.binding_cap, "limit": detail.get("limit"),
                                      "used": detail.get("used"), "binding_step": computed.binding_step})
        raise Unprocessable(f"Nothing is payable on {step.kind.noun} {item.id}.", code="nothing_payable")
    if (step.amount_fen is None and new != step.shown_fen) or (step.amount_fen is not None and step.amount_fen > new):
        raise AmountChanged(
            f"The amount computed now is {format_fen(new)}, not the {format_fen(step.shown_fen)} you saw"
            + (f" ({computed.binding_cap} bound it)" if computed.binding_cap else "")
            + "; approve again sending the amount you confirm.",
            extra={"computed_amount": format_fen(new), "shown_amount": format_fen(step.shown_fen),
                   "binding_cap": computed.binding_cap, "binding_step": computed.binding_step})
    if step.amount_fen is not None and step.amount_fen <= 0:
        raise Unprocessable("An approval of 0.00 is not an approval; reject with a reason instead.",
                            code="nothing_payable", errors={"amount": ["must be more than 0.00"]})
    return new if step.amount_fen is None else step.amount_fen


def _reserve_budget(step: _Step) -> None:
    item = step.item
    step.decided_fen = _decide_amount(step)
    ledger.reserve_budget(step.session, program_code=item.program_code, year=step.today.year,
                          budget_fen=step.rule.annual_budget_fen(step.today.year), amount_fen=step.decided_fen,
                          subject_type=step.kind.subject_type, subject_id=item.id)
    item.approved_fen, item.budget_year = step.decided_fen, step.today.year


def _release_budget(step: _Step) -> None:
    item = step.item
    step.decided_fen = item.approved_fen
    ledger.release_budget(step.session, program_code=item.program_code, year=item.budget_year,
                          amount_fen=item.approved_fen, subject_type=step.kind.subject_type, subject_id=item.id)


def _post_payment(step: _Step) -> None:
    item = step.item
    if not item.approved_fen:
        raise Unprocessable(f"{step.kind.noun.capitalize()} {item.id} has nothing approved to pay.",
                            code="nothing_payable")
    step.decided_fen = item.approved_fen
    ledger.post_payment(step.session, program_code=item.program_code, year=item.budget_year,
                        amount_fen=item.approved_fen, subject_type=step.kind.subject_type, subject_id=item.id,
                        voucher_no=step.voucher_no)
    item.paid_fen, item.paid_on = item.approved_fen, step.today
    if step.kind.on_paid:
        step.kind.on_paid(step.session, item)


EFFECTS: dict[str, Callable[[_Step], None]] = {
    "compute": _compute,
    "mark_first_reviewer": _mark_first_reviewer,
    "reserve_budget": _reserve_budget,
    "release_budget": _release_budget,
    "post_payment": _post_payment,
}


def _effect(name: str) -> Callable[[_Step], None]:
    try:
        return EFFECTS[name]
    except KeyError:
        raise ValueError(f"transition effect {name!r} is not one the review engine knows") from None


def apply_transition(session: Session, kind: Reviewable, *, registry, principal: Principal, flow: Flow,
                     transition: Transition, item, rule, today: date, reason: str, amount_fen: int | None,
                     documents_requested: list[dict] | None = None, voucher_no: str = "") -> None:
    """Carry out one planned transition: locks, effects, new state, SLA clock, decision, audit event, outbox event."""
    effects = [_effect(name) for name in transition.effects]
    evidence.check_transition(session, subject_type=kind.subject_type, subject=item, rule=rule,
                              action=transition.action, documents_requested=documents_requested)
    step = _Step(kind, session, registry, principal, item, rule, today, amount_fen, voucher_no)
    if "reserve_budget" in transition.effects:
        # Usage is read by the recompute below: take every cap level's lock first, in the documented order.
        for name in kind.cap_locks(session, item, rule, today.year):
            lock_rows(session, lock_key(*name))
    before = item.status
    for effect in effects:
        effect(step)
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
