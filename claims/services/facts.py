"""Turn stored rows into the plain facts the rule engine evaluates (no rules here, only mapping)."""
from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Integer, String, and_, bindparam, case, cast, func, literal, null, or_, text, union_all
from sqlmodel import Session, select

from claims import ledger
from claims.models import Claim, Enterprise, EnterpriseAttribute, ListMembership, Loan
from workflows.facts import CapUsage, EnterpriseFacts, LoanFacts
from workflows.facts import EnterpriseAttribute as AttributeFact
from workflows.facts import ListMembership as MembershipFact

COMMITTED_CLAIM_STATES = ("approved", "paid")


# Built once, bound per call: a firm's list memberships and dated attributes, one round trip for both (every
# filing reads them). Core columns, not ORM entities: the rows become plain facts, so no object is needed.
_MEMBERSHIP, _ATTRIBUTE = ListMembership.__table__.c, EnterpriseAttribute.__table__.c
_FIRM_FACTS = union_all(
    select(literal("membership").label("kind"), _MEMBERSHIP.enterprise_id, _MEMBERSHIP.category.label("name"),
           cast(null(), String).label("value"), _MEMBERSHIP.valid_from, _MEMBERSHIP.valid_to,
           _MEMBERSHIP.revoked_on, cast(null(), Integer).label("fiscal_year"), _MEMBERSHIP.id).where(
        _MEMBERSHIP.enterprise_id.in_(bindparam("ids", expanding=True))),
    select(literal("attribute"), _ATTRIBUTE.enterprise_id, _ATTRIBUTE.name, _ATTRIBUTE.value, _ATTRIBUTE.valid_from,
           _ATTRIBUTE.valid_to, cast(null(), Date), _ATTRIBUTE.fiscal_year, _ATTRIBUTE.id).where(
        _ATTRIBUTE.enterprise_id.in_(bindparam("ids", expanding=True))),
).order_by(text("kind"), text("id"))


def enterprise_facts(session: Session, enterprise: Enterprise | None) -> EnterpriseFacts:
    """An enterprise's revenue, industry, dated list memberships (revocations too) and dated attributes."""
    if enterprise is None:
        return EnterpriseFacts()
    return enterprise_facts_many(session, [enterprise])[enterprise.id]


def enterprise_facts_many(session: Session, enterprises: list[Enterprise]) -> dict[int, EnterpriseFacts]:
    """Facts for many enterprises, by id (anything with id, annual_revenue_fen and industry), in one query."""
    memberships: dict[int, list[MembershipFact]] = {e.id: [] for e in enterprises}
    attributes: dict[int, list[AttributeFact]] = {e.id: [] for e in enterprises}
    if memberships:
        for kind, enterprise_id, name, value, valid_from, valid_to, revoked_on, fiscal_year, _id in session.execute(
                _FIRM_FACTS, {"ids": list(memberships)}):
            if kind == "membership":
                memberships[enterprise_id].append(MembershipFact(name, valid_from, valid_to, revoked_on))
            else:
                attributes[enterprise_id].append(AttributeFact(name, value, valid_from, valid_to, fiscal_year))
    return {e.id: EnterpriseFacts(revenue_fen=e.annual_revenue_fen, industry=e.industry or None,
                                  memberships=tuple(memberships[e.id]), attributes=tuple(attributes[e.id]))
            for e in enterprises}


def loan_facts(loan: Loan, enterprise: EnterpriseFacts, attributes: dict | None = None) -> LoanFacts:
    """A stored loan as rule-engine facts (its attributes passed in when the caller has already parsed them)."""
    attributes = dict((loan.attributes if attributes is None else attributes) or {})
    if loan.individual_id is not None:
        attributes.setdefault("borrower_kind", "individual")
    else:
        attributes.setdefault("borrower_kind", "enterprise")
    return LoanFacts(principal_fen=loan.principal_fen, disbursed_on=loan.disbursed_on, maturity_on=loan.maturity_on,
                     security_type=loan.security_type, unsecured_share=Decimal(loan.unsecured_share),
                     first_loan=loan.first_loan, policy_tool=loan.policy_tool, attributes=attributes,
                     enterprise=enterprise)


# The cap usage is read by one statement on every filing and recompute: built once per shape, it takes its
# values as bound parameters (building the expression costs more than running it on SQLite), and every
# base the rule needs is a scalar subquery of it, so a filing pays one round trip for all of them.
def _committed_sums_statement(owner: str, excluding: bool):
    column = Loan.enterprise_id if owner == "enterprise" else Loan.individual_id
    # A loan without a borrower id compares it IS NULL, as `column == None` always did.
    enterprise = column.is_(None) if owner == "none" else column == bindparam("owner_id")
    institution = Claim.institution_id == bindparam("institution_id")
    in_year = Claim.budget_year == bindparam("year")
    amount = func.coalesce(Claim.approved_fen, 0)

    def total(*when):
        return func.coalesce(func.sum(case((and_(*when), amount), else_=0)), 0)

    others = [Claim.id != bindparam("exclude_claim_id")] if excluding else []
    return select(total(enterprise, in_year), total(enterprise), total(institution, in_year)).select_from(
        Claim).join(Loan, Loan.id == Claim.loan_id).where(
        Claim.status.in_(COMMITTED_CLAIM_STATES), Claim.program_code == bindparam("program_code"), *others,
        or_(enterprise, institution))


def _institution_principal(*conditions):
    # Not correlated with the enclosing statement's loan: the institution's loans, not the claimed one.
    return select(func.coalesce(func.sum(Loan.principal_fen), 0)).where(
        Loan.institution_id == bindparam("institution_id"), Loan.program_code == bindparam("program_code"),
        *conditions).correlate(None).scalar_subquery()


def _cohort_sum():
    return select(func.coalesce(func.sum(func.coalesce(Claim.approved_fen, 0)), 0)).select_from(Claim).join(
        Loan, Loan.id == Claim.loan_id).where(
        Claim.status.in_(COMMITTED_CLAIM_STATES), Claim.program_code == bindparam("program_code"),
        Claim.institution_id == bindparam("institution_id"), Claim.id != bindparam("cohort_exclude_id"),
        Loan.disbursed_on >= bindparam("registered_start"), Loan.disbursed_on <= bindparam("registered_end")
    ).correlate(None).scalar_subquery()


@functools.cache
def _usage_statement(owner: str, excluding: bool, registered: bool, prior_balance: bool, cohort: bool, budget: bool):
    """Committed amounts (enterprise this year, all years, institution this year), then the bases asked for."""
    bases = []
    if registered:
        bases.append(_institution_principal(Loan.disbursed_on >= bindparam("registered_start"),
                                            Loan.disbursed_on <= bindparam("registered_end")))
    if prior_balance:
        bases.append(_institution_principal(Loan.disbursed_on < bindparam("year_start"),
                                            Loan.maturity_on >= bindparam("year_start")))
    if cohort:
        bases.append(_cohort_sum())
    if budget:
        bases.append(ledger.AVAILABLE)
    return _committed_sums_statement(owner, excluding).add_columns(*bases)


def cap_usage(session: Session, *, loan: Loan, program_code: str, year: int, budget_fen: int | None = None,
              with_budget: bool = False, exclude_claim_id: int | None = None, caps=None) -> CapUsage:
    """What this enterprise and institution have already been granted, for the caps to count against.

    Given the rule's caps, a proportional cap's base is read only when the rule has that cap (the
    engine ignores the others); without them every base is read. A "share of registered" cap counted
    by registration year reads the loan's registration year and what that year's loans have used.
    With `with_budget`, what the ledger has left of the year's budget too (`budget_fen` before any entry).
    """
    by_registration = caps is not None and caps.share_of_registered_year == "registration_year"
    registered_year = loan.disbursed_on.year if by_registration else year
    registered = caps is None or caps.per_institution_year_share_of_registered is not None
    prior = caps is None or caps.per_institution_year_share_of_prior_balance is not None
    with_cohort = by_registration and caps.per_institution_year_share_of_registered is not None
    if loan.enterprise_id is not None:
        owner, owner_id = "enterprise", loan.enterprise_id
    else:
        owner, owner_id = ("individual", loan.individual_id) if loan.individual_id is not None else ("none", None)
    params = {"institution_id": loan.institution_id, "year": year, "program_code": program_code,
              "registered_start": date(registered_year, 1, 1), "registered_end": date(registered_year, 12, 31),
              "year_start": date(year, 1, 1), "cohort_exclude_id": exclude_claim_id or 0}
    if owner_id is not None:
        params["owner_id"] = owner_id
    if exclude_claim_id:
        params["exclude_claim_id"] = exclude_claim_id
    values = list(session.execute(
        _usage_statement(owner, bool(exclude_claim_id), registered, prior, with_cohort, with_budget), params).one())
    available = ledger.available_or_budget(values.pop(), budget_fen) if with_budget else None
    row = iter(int(value) for value in values)
    enterprise_year, enterprise_lifetime, institution_year = next(row), next(row), next(row)
    registered_fen = next(row) if registered else None
    prior_balance = next(row) if prior else None
    cohort = next(row) if with_cohort else None
    return CapUsage(
        enterprise_year_fen=enterprise_year,
        enterprise_lifetime_fen=enterprise_lifetime,
        institution_year_fen=institution_year,
        institution_registered_principal_fen=registered_fen,
        institution_prior_year_balance_fen=prior_balance,
        program_budget_remaining_fen=available,
        institution_cohort_fen=cohort,
    )


@functools.cache
def _institution_principal_statement():
    return select(_institution_principal(Loan.disbursed_on >= bindparam("registered_start"),
                                         Loan.disbursed_on <= bindparam("registered_end")),
                  _institution_principal(Loan.disbursed_on < bindparam("year_start"),
                                         Loan.maturity_on >= bindparam("year_start")))


def institution_principal(session: Session, *, institution_id: int, program_code: str, year: int) -> tuple[int, int]:
    """(principal registered in the year, balance carried in from earlier years) of an institution's loans."""
    row = session.execute(_institution_principal_statement(), {
        "registered_start": date(year, 1, 1), "registered_end": date(year, 12, 31), "year_start": date(year, 1, 1),
        "institution_id": institution_id, "program_code": program_code}).one()
    return int(row[0]), int(row[1])
