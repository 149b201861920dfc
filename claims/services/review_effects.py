"""The review engine's effects: what a transition may do to money (compute, reserve, release, pay) and how the
approved amount is decided. A flow names its effects; `effect()` refuses any name not in EFFECTS."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from sqlmodel import Session

from claims import ledger
from claims.auth import Principal
from claims.errors import Conflict, Unprocessable
from workflows.money import format_fen


@dataclass(frozen=True)
class Computed:
    """A recomputed amount and, when a cap bound it, that cap's name and trace step."""

    amount_fen: int
    binding_cap: str | None = None
    binding_step: dict | None = None


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


class Step:
    """What one transition's effects have decided so far."""

    def __init__(self, kind, session: Session, registry, principal: Principal, item, rule, today: date,
                 amount_fen: int | None, voucher_no: str = ""):
        # kind is the review.Reviewable being moved (not imported here: review imports this module).
        self.kind, self.session, self.registry, self.principal = kind, session, registry, principal
        self.item, self.rule, self.today, self.amount_fen = item, rule, today, amount_fen
        self.voucher_no = voucher_no  # the treasury's payment voucher, booked on the pay posting
        self.shown_fen = item.computed_fen  # what the caller saw at the version it sent
        self.computed: Computed | None = None
        self.decided_fen: int | None = None


def _compute(step: Step) -> None:
    step.computed = step.kind.compute(step.session, step.registry, step.item, step.today)


def _mark_first_reviewer(step: Step) -> None:
    step.item.first_reviewer_id = step.principal.user_id


def _decide_amount(step: Step) -> int:
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


def _reserve_budget(step: Step) -> None:
    item = step.item
    step.decided_fen = _decide_amount(step)
    ledger.reserve_budget(step.session, program_code=item.program_code, year=step.today.year,
                          budget_fen=step.rule.annual_budget_fen(step.today.year), amount_fen=step.decided_fen,
                          subject_type=step.kind.subject_type, subject_id=item.id)
    item.approved_fen, item.budget_year = step.decided_fen, step.today.year


def _release_budget(step: Step) -> None:
    item = step.item
    step.decided_fen = item.approved_fen
    ledger.release_budget(step.session, program_code=item.program_code, year=item.budget_year,
                          amount_fen=item.approved_fen, subject_type=step.kind.subject_type, subject_id=item.id)


def _post_payment(step: Step) -> None:
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


EFFECTS: dict[str, Callable[[Step], None]] = {
    "compute": _compute,
    "mark_first_reviewer": _mark_first_reviewer,
    "reserve_budget": _reserve_budget,
    "release_budget": _release_budget,
    "post_payment": _post_payment,
}


def effect(name: str) -> Callable[[Step], None]:
    """The effect function a flow names, refusing a name the engine does not know."""
    try:
        return EFFECTS[name]
    except KeyError:
        raise ValueError(f"transition effect {name!r} is not one the review engine knows") from None
