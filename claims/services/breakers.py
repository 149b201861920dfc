"""Circuit breakers: when an institution's loss, payout or overdue ratio passes the program's threshold, hold it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_
from sqlmodel import Session, select

from claims.audit import record_event
from claims.models import Admission, Claim, Loan
from claims.models.base import utcnow
from claims.services import events
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


def _book(institution_id: int, program_code: str, *, lent_only: bool) -> list:
    party = (Loan.institution_id == institution_id if lent_only
             else or_(Loan.institution_id == institution_id, Loan.guarantor_id == institution_id))
    return [Loan.program_code == program_code, party]


def _principal(session: Session, *conditions) -> int:
    return int(session.exec(select(func.coalesce(func.sum(Loan.principal_fen), 0)).where(*conditions)).one())


def payout_rate(session: Session, *, institution_id: int, program_code: str, year: int) -> tuple[int, int]:
    """(compensation approved on its claims this year, principal it lent or guaranteed in force that year), in fen."""
    compensated = session.exec(select(func.coalesce(func.sum(Claim.approved_fen), 0)).where(
        Claim.institution_id == institution_id, Claim.program_code == program_code, Claim.budget_year == year,
        Claim.status.in_(("approved", "paid")))).one()
    book = _principal(session, *_book(institution_id, program_code, lent_only=False),
                      Loan.disbursed_on <= date(year, 12, 31), Loan.maturity_on >= date(year, 1, 1))
    return int(compensated), book


def overdue_share(session: Session, *, institution_id: int, program_code: str,
                  statuses: tuple[str, ...]) -> tuple[int, int]:
    """(principal of its loans in these statuses, principal of its outstanding loans) in the program, in fen."""
    book = _book(institution_id, program_code, lent_only=True)
    outstanding = _principal(session, *book, Loan.status.not_in(("repaid", "closed")))
    return _principal(session, *book, Loan.status.in_(statuses)), outstanding


def measure(session: Session, *, metric: str, institution_id: int, program_code: str, year: int) -> tuple[int, int]:
    """A breaker metric for the institution as (numerator, denominator) in fen.

    loss_ratio: compensated this year / registered this year; payout_rate: compensation on its claims
    / what it lent or guaranteed in force this year; overdue_rate and non_performing_ratio: its loans
    overdue (or non-performing) / its outstanding loans in the program.
    """
    if metric == "payout_rate":
        return payout_rate(session, institution_id=institution_id, program_code=program_code, year=year)
    if metric == "overdue_rate":
        return overdue_share(session, institution_id=institution_id, program_code=program_code,
                             statuses=("overdue", "non_performing"))
    if metric == "non_performing_ratio":
        return overdue_share(session, institution_id=institution_id, program_code=program_code,
                             statuses=("non_performing",))
    return loss_ratio(session, institution_id=institution_id, program_code=program_code, year=year)


def evaluate_breaker(session: Session, *, rule, institution_id: int, year: int, actor: str = "system") -> str | None:
    """Trip the first of the program's breakers whose metric the institution passes.

    Returns the admission status it set, or None when nothing tripped. Lifting is the owner's decision,
    so this never reinstates an institution by itself.
    """
    admission = session.exec(select(Admission).where(Admission.institution_id == institution_id,
                                                     Admission.program_code == rule.code)).first()
    if admission is None or admission.status != "active":
        return None
    for breaker in rule.breakers:
        numerator, denominator = measure(session, metric=breaker.metric, institution_id=institution_id,
                                         program_code=rule.code, year=year)
        if denominator == 0 or Decimal(numerator) / Decimal(denominator) <= breaker.threshold:
            continue
        admission.status = HOLDING.get(breaker.action, "claims_deferred")
        admission.reason = (f"熔断 ({breaker.label or breaker.metric}): {year}年 {format_fen(numerator)} / "
                            f"{format_fen(denominator)} 超过 {breaker.threshold}")
        admission.updated_at = utcnow()
        session.add(admission)
        record_event(session, actor=actor, entity="admission", entity_id=admission.id, action="breaker_tripped",
                     data={"institution_id": institution_id, "program": rule.code, "status": admission.status,
                           "metric": breaker.metric, "numerator_fen": numerator, "denominator_fen": denominator,
                           "threshold": str(breaker.threshold)})
        events.emit(session, type="breaker.tripped", institution_id=institution_id, subject_type="admission",
                    subject_id=admission.id, data={"program": rule.code, "status": admission.status,
                                                   "metric": breaker.metric, "threshold": str(breaker.threshold),
                                                   "measured": format_fen(numerator) + " / " + format_fen(denominator),
                                                   "year": year, "reason": admission.reason})
        return admission.status
    return None
