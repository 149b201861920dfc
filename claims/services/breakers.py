"""Circuit breakers: when an institution's loss ratio passes the program's threshold, hold it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from claims.audit import record_event
from claims.models import Admission, Claim, Loan
from claims.models.base import utcnow
from workflows.money import format_fen

HOLDING = {"defer_claims": "claims_deferred", "suspend_registrations": "suspended"}


def holds_claims(session: Session, *, institution_id: int, program_code: str) -> bool:
    """Whether a breaker (or the owner) currently defers this institution's claims in the program."""
    status = session.exec(select(Admission.status).where(Admission.institution_id == institution_id,
                                                         Admission.program_code == program_code)).first()
    return status == "claims_deferred"


def loss_ratio(session: Session, *, institution_id: int, program_code: str, year: int) -> tuple[int, int]:
    """(compensated this year, registered principal this year) for the institution, in fen."""
    compensated = session.exec(select(func.coalesce(func.sum(Claim.approved_fen), 0)).where(
        Claim.institution_id == institution_id, Claim.program_code == program_code, Claim.budget_year == year,
        Claim.status.in_(("approved", "paid")))).one()
    registered = session.exec(select(func.coalesce(func.sum(Loan.principal_fen), 0)).where(
        Loan.institution_id == institution_id, Loan.program_code == program_code,
        Loan.disbursed_on >= date(year, 1, 1), Loan.disbursed_on <= date(year, 12, 31))).one()
    return int(compensated), int(registered)


def evaluate_breaker(session: Session, *, rule, institution_id: int, year: int, actor: str = "system") -> str | None:
    """Trip the program's breaker for the institution when its loss ratio passes the threshold.

    Returns the admission status it set, or None when nothing tripped. Lifting is the owner's decision,
    so this never reinstates an institution by itself.
    """
    breaker = rule.breaker
    if breaker is None or breaker.metric != "loss_ratio":
        return None
    admission = session.exec(select(Admission).where(Admission.institution_id == institution_id,
                                                     Admission.program_code == rule.code)).first()
    if admission is None or admission.status != "active":
        return None
    compensated, registered = loss_ratio(session, institution_id=institution_id, program_code=rule.code, year=year)
    if registered == 0 or Decimal(compensated) / Decimal(registered) <= breaker.threshold:
        return None
    admission.status = HOLDING.get(breaker.action, "claims_deferred")
    admission.reason = (f"熔断: {year}年代偿 {format_fen(compensated)} / 备案 {format_fen(registered)} "
                        f"超过 {breaker.threshold}")
    admission.updated_at = utcnow()
    session.add(admission)
    record_event(session, actor=actor, entity="admission", entity_id=admission.id, action="breaker_tripped",
                 data={"institution_id": institution_id, "program": rule.code, "status": admission.status,
                       "compensated_fen": compensated, "registered_fen": registered,
                       "threshold": str(breaker.threshold)})
    return admission.status
