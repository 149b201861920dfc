"""Recoveries on paid claims: what came back, and the pro-rata share booked as owed back to the program."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from claims import ledger
from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Forbidden, Unprocessable
from claims.models import Claim, Recovery
from claims.models.base import utcnow
from claims.services import review
from claims.services.claim_amounts import claim_facts
from claims.services.claims import get_claim
from claims.services.programs import loaded_rule
from workflows.compensation import loss_base_fen
from workflows.money import format_fen, split_largest_remainder
from workflows.recovery import compute_recovery_return


def recoveries_of(session: Session, *, claim: Claim) -> list[Recovery]:
    """Every recovery reported on a claim, oldest first."""
    return list(session.exec(select(Recovery).where(Recovery.claim_id == claim.id).order_by(Recovery.id)))


def record_recovery(session: Session, *, principal: Principal, registry, claim_id: int, amount_fen: int,
                    costs_fen: int, recovered_on: date, today: date | None = None) -> Recovery:
    """Record money recovered after payment; the pro-rata share is booked as owed back to the program."""
    if not principal.is_institution:
        raise Forbidden("Only the lending institution reports recoveries.", code="institution_only")
    begin_write(session)
    claim = get_claim(session, principal=principal, claim_id=claim_id, lock=True)
    if claim.status != "paid":
        raise Conflict(f"Claim {claim.id} is {claim.status}; recoveries are reported on paid claims.",
                       code="claim_not_paid")
    latest = today or date.today()
    if not claim.default_on <= recovered_on <= latest:
        raise Unprocessable(f"A recovery is dated between the default ({claim.default_on}) and today ({latest}); "
                            f"{recovered_on} is not.", code="recovery_date_out_of_range",
                            errors={"recovered_on": [f"must be between {claim.default_on} and {latest}"]})
    if costs_fen > amount_fen:
        raise Unprocessable("Recovery costs exceed the amount recovered.", code="costs_exceed_recovery",
                            errors={"costs": ["more than the amount recovered"]})
    rule = loaded_rule(session, registry, rule_version_id=claim.rule_version_id)
    # Pro rata to what the program actually bore: paid ÷ loss base, not the nominal ratio before caps.
    loss = loss_base_fen(rule, claim_facts(claim, recovered_on))
    ratio_paid = (Decimal(claim.paid_fen) / Decimal(loss)) if loss else Decimal(0)
    result = compute_recovery_return(claim.paid_fen, min(ratio_paid, Decimal(1)), amount_fen, costs_fen,
                                     claim.returned_fen)
    trace = list(result.trace)
    if rule.risk_shares:
        trace.append(_party_shares(rule, result, amount_fen - costs_fen))
    recovery = Recovery(claim_id=claim.id, amount_fen=amount_fen, costs_fen=costs_fen, returned_fen=result.returned_fen,
                        recovered_on=recovered_on, trace=trace)
    session.add(recovery)
    session.flush()
    if result.returned_fen:
        ledger.book_recovery(session, program_code=claim.program_code, year=claim.budget_year,
                             institution_id=claim.institution_id, amount_fen=result.returned_fen,
                             subject_id=recovery.id)
    claim.returned_fen += result.returned_fen
    claim.updated_at = utcnow()
    session.add(claim)
    review.flush_versioned(session, "claim")
    record_event(session, actor=principal.actor, entity="claim", entity_id=claim.id, action="recovery_reported",
                 data={"recovery_id": recovery.id, "amount_fen": amount_fen, "costs_fen": costs_fen,
                       "returned_fen": result.returned_fen})
    session.commit()
    return recovery


def _party_shares(rule, result, net_fen: int) -> dict:
    """The trace step splitting a recovery back over the risk-sharing parties as the loss was split.

    The program's party gets what is returned to the program; the others share the rest of the net
    recovery by their risk shares (largest remainder), so the parts add up to the net recovery.
    """
    program_party = next(s.party for s in rule.risk_shares if s.program)
    others = {s.party: s.share for s in rule.risk_shares if not s.program and s.share > 0}
    rest = max(net_fen - result.due_fen, 0)
    split = {program_party: result.returned_fen, **(split_largest_remainder(rest, others) if others else {})}
    return {"step": "party_shares", "value": {party: format_fen(fen) for party, fen in split.items()},
            "detail": f"{program_party} gets what is returned to the program; the other parties share the rest "
                      f"of the net recovery {format_fen(rest)} by their risk shares (largest remainder)",
            "fen": split}
