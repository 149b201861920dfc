"""Turn stored rows into the plain facts the rule engine evaluates (no rules here, only mapping)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, func, or_
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


def _committed_sums(session: Session, *, loan: Loan, program_code: str, year: int,
                    exclude_claim_id: int | None) -> tuple[int, int, int]:
    """Approved or paid amounts: (enterprise this year, enterprise all years, institution this year), in one query."""
    enterprise = (Loan.enterprise_id == loan.enterprise_id if loan.enterprise_id is not None
                  else Loan.individual_id == loan.individual_id)
    institution = Claim.institution_id == loan.institution_id
    in_year = Claim.budget_year == year
    amount = func.coalesce(Claim.approved_fen, 0)

    def total(*when):
        return func.coalesce(func.sum(case((and_(*when), amount), else_=0)), 0)

    others = [Claim.id != exclude_claim_id] if exclude_claim_id else []
    statement = select(total(enterprise, in_year), total(enterprise), total(institution, in_year)).select_from(
        Claim).join(Loan, Loan.id == Claim.loan_id).where(
        Claim.status.in_(COMMITTED_CLAIM_STATES), Claim.program_code == program_code, *others,
        or_(enterprise, institution))
    return tuple(int(value) for value in session.execute(statement).one())


def _principal_bases(session: Session, *, loan: Loan, program_code: str, year: int, registered: bool,
                     prior_balance: bool) -> tuple[int | None, int | None]:
    """The institution's principal registered this year and its balance carried in from earlier years (as asked)."""
    year_start, year_end = date(year, 1, 1), date(year, 12, 31)
    wanted = {"registered": and_(Loan.disbursed_on >= year_start, Loan.disbursed_on <= year_end) if registered else None,
              "prior": and_(Loan.disbursed_on < year_start, Loan.maturity_on >= year_start) if prior_balance else None}
    conditions = {name: condition for name, condition in wanted.items() if condition is not None}
    if not conditions:
        return None, None
    statement = select(*(func.coalesce(func.sum(case((condition, Loan.principal_fen), else_=0)), 0)
                         for condition in conditions.values())).where(
        Loan.institution_id == loan.institution_id, Loan.program_code == program_code, or_(*conditions.values()))
    sums = dict(zip(conditions, (int(value) for value in session.execute(statement).one())))
    return sums.get("registered"), sums.get("prior")


def cap_usage(session: Session, *, loan: Loan, program_code: str, year: int, budget_available_fen: int | None,
              exclude_claim_id: int | None = None, caps=None) -> CapUsage:
    """What this enterprise and institution have already been granted, for the caps to count against.

    Given the rule's caps, a proportional cap's base is read only when the rule has that cap (the
    engine ignores the others); without them every base is read.
    """
    enterprise_year, enterprise_lifetime, institution_year = _committed_sums(
        session, loan=loan, program_code=program_code, year=year, exclude_claim_id=exclude_claim_id)
    registered, prior_balance = _principal_bases(
        session, loan=loan, program_code=program_code, year=year,
        registered=caps is None or caps.per_institution_year_share_of_registered is not None,
        prior_balance=caps is None or caps.per_institution_year_share_of_prior_balance is not None)
    return CapUsage(
        enterprise_year_fen=enterprise_year,
        enterprise_lifetime_fen=enterprise_lifetime,
        institution_year_fen=institution_year,
        institution_registered_principal_fen=registered,
        institution_prior_year_balance_fen=prior_balance,
        program_budget_remaining_fen=budget_available_fen,
    )
