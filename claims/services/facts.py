"""Turn stored rows into the plain facts the rule engine evaluates (no rules here, only mapping)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from claims.models import Claim, Enterprise, ListMembership, Loan
from workflows.facts import CapUsage, EnterpriseFacts, ListMembership as MembershipFact, LoanFacts

COMMITTED_CLAIM_STATES = ("approved", "paid")


def enterprise_facts(session: Session, enterprise: Enterprise | None) -> EnterpriseFacts:
    """An enterprise's revenue, industry and dated list memberships."""
    if enterprise is None:
        return EnterpriseFacts()
    memberships = session.exec(select(ListMembership).where(ListMembership.enterprise_id == enterprise.id)).all()
    return EnterpriseFacts(revenue_fen=enterprise.annual_revenue_fen, industry=enterprise.industry or None,
                           memberships=tuple(MembershipFact(m.category, m.valid_from, m.valid_to) for m in memberships))


def enterprise_facts_many(session: Session, enterprises: list[Enterprise]) -> dict[int, EnterpriseFacts]:
    """Facts for many enterprises, by id, reading their list memberships in one query."""
    memberships: dict[int, list[MembershipFact]] = {e.id: [] for e in enterprises}
    if memberships:
        for m in session.exec(select(ListMembership).where(ListMembership.enterprise_id.in_(list(memberships)))):
            memberships[m.enterprise_id].append(MembershipFact(m.category, m.valid_from, m.valid_to))
    return {e.id: EnterpriseFacts(revenue_fen=e.annual_revenue_fen, industry=e.industry or None,
                                  memberships=tuple(memberships[e.id])) for e in enterprises}


def loan_facts(loan: Loan, enterprise: EnterpriseFacts) -> LoanFacts:
    """A stored loan as rule-engine facts."""
    attributes = dict(loan.attributes or {})
    if loan.individual_id is not None:
        attributes.setdefault("borrower_kind", "individual")
    else:
        attributes.setdefault("borrower_kind", "enterprise")
    return LoanFacts(principal_fen=loan.principal_fen, disbursed_on=loan.disbursed_on, maturity_on=loan.maturity_on,
                     security_type=loan.security_type, unsecured_share=Decimal(loan.unsecured_share),
                     first_loan=loan.first_loan, policy_tool=loan.policy_tool, attributes=attributes,
                     enterprise=enterprise)


def _committed_sum(session: Session, *conditions) -> int:
    amount = func.coalesce(func.sum(func.coalesce(Claim.approved_fen, 0)), 0)
    statement = select(amount).join(Loan, Loan.id == Claim.loan_id).where(
        Claim.status.in_(COMMITTED_CLAIM_STATES), *conditions)
    return int(session.exec(statement).one())


def cap_usage(session: Session, *, loan: Loan, program_code: str, year: int, budget_available_fen: int | None,
              exclude_claim_id: int | None = None) -> CapUsage:
    """What this enterprise and institution have already been granted, for the caps to count against."""
    others = [Claim.id != exclude_claim_id] if exclude_claim_id else []
    in_program = [Claim.program_code == program_code, *others]
    year_start, year_end = date(year, 1, 1), date(year, 12, 31)
    in_year = [Claim.budget_year == year]
    enterprise_condition = ([Loan.enterprise_id == loan.enterprise_id] if loan.enterprise_id is not None
                            else [Loan.individual_id == loan.individual_id])
    registered = session.exec(select(func.coalesce(func.sum(Loan.principal_fen), 0)).where(
        Loan.institution_id == loan.institution_id, Loan.program_code == program_code,
        Loan.disbursed_on >= year_start, Loan.disbursed_on <= year_end)).one()
    prior_balance = session.exec(select(func.coalesce(func.sum(Loan.principal_fen), 0)).where(
        Loan.institution_id == loan.institution_id, Loan.program_code == program_code,
        Loan.disbursed_on < year_start, Loan.maturity_on >= year_start)).one()
    return CapUsage(
        enterprise_year_fen=_committed_sum(session, *in_program, *in_year, *enterprise_condition),
        enterprise_lifetime_fen=_committed_sum(session, *in_program, *enterprise_condition),
        institution_year_fen=_committed_sum(session, *in_program, *in_year,
                                            Claim.institution_id == loan.institution_id),
        institution_registered_principal_fen=int(registered),
        institution_prior_year_balance_fen=int(prior_balance),
        program_budget_remaining_fen=budget_available_fen,
    )
