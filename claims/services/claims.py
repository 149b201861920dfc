"""Use cases for loss claims: filing, correcting, review transitions with budget effects."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from claims.audit import plain, record_event
from claims.auth import Principal, within_programs
from claims.db import begin_write
from claims.errors import Conflict, Forbidden, NotFound, Unprocessable
from claims.models import Claim, Decision, Enterprise, Loan
from claims.models.base import utcnow
from claims.models.claim import OPEN_QUEUE
from claims.paging import Page, PageRequest, fetch_page
from claims.services import breakers, review, review_effects
from claims.services.claim_amounts import check_claim_rules, compute_claim, loan_facts_of
from claims.services.facts import enterprise_facts, loan_facts
from claims.services.programs import loaded_rule
from workflows.flows import STAGE_OF_STATE

EDITABLE_STATES = ("draft", "returned")
CLAIMABLE_LOAN_STATES = ("overdue", "non_performing")
CALENDAR = review.CALENDAR


@dataclass
class ClaimInput:
    """What the institution states about a default."""

    default_on: date
    outstanding_principal_fen: int
    unpaid_interest_fen: int = 0
    interest_days: int | None = None  # days of unpaid interest; None: from the default to the filing date
    recovered_before_fen: int = 0
    lawsuit_accepted_on: date | None = None
    days_overdue: int = 0
    classification: str = ""
    requested_fen: int | None = None
    note: str = ""


def scoped_claims(principal: Principal):
    """The select of claims the caller may see: its own for an institution, all for staff."""
    statement = select(Claim)
    if principal.is_institution:
        return statement.where(Claim.institution_id == principal.institution_id)
    principal.require("reviewer", "approver", "payer", "admin", "auditor")
    return within_programs(principal, statement, Claim.program_code)


def get_claim(session: Session, *, principal: Principal, claim_id: int, lock: bool = False) -> Claim:
    """One claim, or 404 when it does not exist or belongs to another institution."""
    statement = scoped_claims(principal).where(Claim.id == claim_id)
    if lock:
        statement = statement.with_for_update()
    claim = session.exec(statement).first()
    if claim is None:
        raise NotFound(f"No claim {claim_id}.")
    return claim


def list_claims(session: Session, *, principal: Principal, page: PageRequest, status: str | None = None,
                program: str | None = None, institution_id: int | None = None, loan_id: int | None = None,
                sla_overdue_on: date | None = None, updated_since: datetime | None = None,
                sort: str | None = None) -> Page[Claim]:
    """Claims visible to the caller, filtered; with a status filter the oldest submissions come first (a queue).

    sort="due" orders by the stage's due date instead (soonest first), as a reviewer works a queue.
    """
    statement = scoped_claims(principal)
    if status:
        statement = statement.where(Claim.status.in_([s.strip() for s in status.split(",")]))
    if program:
        statement = statement.where(Claim.program_code == program)
    if institution_id is not None:
        statement = statement.where(Claim.institution_id == institution_id)
    if loan_id is not None:
        statement = statement.where(Claim.loan_id == loan_id)
    if sla_overdue_on:
        statement = statement.where(Claim.stage_due_on < sla_overdue_on, Claim.status.in_(tuple(STAGE_OF_STATE)))
    if updated_since is not None:
        statement = statement.where(Claim.updated_at >= updated_since)
    order = (Claim.submitted_at, Claim.id) if status else (Claim.id.desc(),)
    if sort == "due":
        order = (Claim.stage_due_on, Claim.id)
    return fetch_page(session, statement.order_by(*order), page)


def decisions_of(session: Session, *, claim: Claim) -> list[Decision]:
    """Every decision taken on a claim, oldest first."""
    return list(session.exec(select(Decision).where(Decision.subject_type == "claim", Decision.subject_id == claim.id)
                             .order_by(Decision.id)))


# Built once, bound per filing, on Core tables (plain rows, no ORM objects to build): the loan (locked) with its
# firm in one round trip, then an open claim on it. That is read after the lock, not as a subquery: the locking
# statement's snapshot predates a concurrent filing's commit.
_LOAN, _ENTERPRISE, _CLAIM = Loan.__table__, Enterprise.__table__, Claim.__table__
_FILABLE_LOAN = (sa_select(_LOAN, _ENTERPRISE.c.annual_revenue_fen.label("firm_revenue_fen"),
                           _ENTERPRISE.c.industry.label("firm_industry"))
                 .select_from(_LOAN.outerjoin(_ENTERPRISE, _ENTERPRISE.c.id == _LOAN.c.enterprise_id))
                 .where(_LOAN.c.id == bindparam("loan_id"), or_(_LOAN.c.institution_id == bindparam("institution_id"),
                                                               _LOAN.c.guarantor_id == bindparam("institution_id")))
                 .with_for_update(of=_LOAN))
_OPEN_CLAIM = sa_select(_CLAIM.c.id).where(_CLAIM.c.loan_id == bindparam("loan_id"), OPEN_QUEUE)
_INSERT_CLAIM = _CLAIM.insert().returning(_CLAIM.c.id)


@dataclass(frozen=True)
class _Firm:
    """The firm's columns the filing read with its loan, as enterprise_facts reads an Enterprise."""

    id: int
    annual_revenue_fen: int | None
    industry: str | None


def file_claim(session: Session, *, principal: Principal, registry, loan_id: int, data: ClaimInput,
               today: date) -> Claim:
    """File a draft claim on one of the institution's defaulted loans, with its amount computed."""
    if not principal.is_institution:
        raise Forbidden("Only the lending institution (or a guarantee fund's guarantor) files a claim.",
                        code="institution_only")
    begin_write(session)
    loan = session.execute(_FILABLE_LOAN, {"loan_id": loan_id, "institution_id": principal.institution_id}).first()
    rule = loaded_rule(session, registry, rule_version_id=loan.rule_version_id) if loan is not None else None
    # In a guarantee fund the guarantor that registered guarantee on the loan may file (代偿申请) as well.
    if loan is not None and loan.institution_id != principal.institution_id and rule.kind != "guarantee_fund":
        loan = None
    if loan is None:
        raise NotFound(f"No loan {loan_id}.", errors={"loan_id": ["no such loan of yours"]})
    open_claim = session.execute(_OPEN_CLAIM, {"loan_id": loan.id}).scalar()
    if open_claim:
        raise Conflict(f"Loan {loan.id} already has open claim {open_claim}.", code="claim_exists",
                       extra={"claim_id": open_claim})
    if loan.status not in CLAIMABLE_LOAN_STATES:
        raise Unprocessable(f"Loan {loan.id} is {loan.status}; report it overdue or non-performing first.",
                            code="loan_not_in_default", errors={"loan_id": [f"loan status is {loan.status}"]})
    claim = Claim(loan_id=loan.id, institution_id=principal.institution_id, program_code=loan.program_code,
                  rule_version_id=loan.rule_version_id, status="draft", default_on=data.default_on,
                  days_overdue=data.days_overdue, classification=data.classification,
                  outstanding_principal_fen=data.outstanding_principal_fen,
                  unpaid_interest_fen=data.unpaid_interest_fen, recovered_before_fen=data.recovered_before_fen,
                  lawsuit_accepted_on=data.lawsuit_accepted_on,
                  interest_days=(data.interest_days if data.interest_days is not None
                                 else max((today - data.default_on).days, 0)),
                  requested_fen=data.requested_fen, note=data.note)
    firm = _Firm(loan.enterprise_id, loan.firm_revenue_fen, loan.firm_industry) if loan.enterprise_id else None
    facts = loan_facts(loan, enterprise_facts(session, firm))
    check_claim_rules(session, registry, claim, loan, today, facts)
    # Computed before the claim is stored, so it is written by one INSERT: a new draft is in no committed
    # state, so leaving it out of the cap usage (as the recompute of a stored claim does) changes nothing.
    compute_claim(session, registry=registry, claim=claim, loan=loan, today=today, facts=facts)
    # A Core insert: the response is built from this object, which no later step of the filing changes.
    claim.id = session.execute(_INSERT_CLAIM, {c.key: getattr(claim, c.key) for c in _CLAIM.c if c.key != "id"}
                               ).scalar_one()
    record_event(session, actor=principal.actor, entity="claim", entity_id=claim.id, action="filed",
                 data={"loan_id": loan.id, "computed_fen": claim.computed_fen})
    session.commit()
    return claim


CORRECTABLE = ("default_on", "outstanding_principal_fen", "unpaid_interest_fen", "interest_days", "recovered_before_fen",
               "lawsuit_accepted_on", "days_overdue", "classification", "requested_fen", "note")


def correct_claim(session: Session, *, principal: Principal, registry, claim_id: int, expected_version: int,
                  changes: dict, today: date) -> Claim:
    """Correct a draft or returned claim (退回补正); the amount is recomputed."""
    if not principal.is_institution:
        raise Forbidden("Only the lending institution corrects its claim.", code="institution_only")
    begin_write(session)
    claim = get_claim(session, principal=principal, claim_id=claim_id, lock=True)
    review.check_version(claim, expected_version, "claim")
    if claim.status not in EDITABLE_STATES:
        raise Conflict(f"Claim {claim.id} is {claim.status}; only draft or returned claims can be corrected.",
                       code="claim_not_editable")
    before = {k: getattr(claim, k) for k in changes}
    for key, value in changes.items():
        if key not in CORRECTABLE:
            raise Unprocessable(f"{key} cannot be corrected.", code="field_not_correctable", errors={key: ["read-only"]})
        setattr(claim, key, value)
    loan = session.get(Loan, claim.loan_id)
    facts = loan_facts_of(session, loan)
    check_claim_rules(session, registry, claim, loan, today, facts)
    compute_claim(session, registry=registry, claim=claim, loan=loan, today=today, facts=facts)
    claim.updated_at = utcnow()
    session.add(claim)
    review.flush_versioned(session, "claim")
    record_event(session, actor=principal.actor, entity="claim", entity_id=claim.id, action="corrected",
                 data={"before": {k: plain(v) for k, v in before.items()},
                       "after": {k: plain(v) for k, v in changes.items()}, "computed_fen": claim.computed_fen})
    session.commit()
    return claim


def _get_for_review(session: Session, *, principal: Principal, item_id: int, lock: bool) -> Claim:
    return get_claim(session, principal=principal, claim_id=item_id, lock=lock)


def _compute_for_review(session: Session, registry, claim: Claim, today: date) -> review_effects.Computed:
    loan = session.get(Loan, claim.loan_id)
    binding = compute_claim(session, registry=registry, claim=claim, loan=loan, today=today)
    return review_effects.Computed(claim.computed_fen, binding, review_effects.binding_step(claim.trace or [], binding))


def _cap_locks(session: Session, claim: Claim, rule, year: int) -> list[tuple]:
    """The cap levels this claim's approval reads, institution-year first (see review's lock order)."""
    loan = session.get(Loan, claim.loan_id)
    caps, program, locks = rule.caps, claim.program_code, []
    if (caps.per_institution_year_fen is not None or caps.per_institution_year_share_of_registered is not None
            or caps.per_institution_year_share_of_prior_balance is not None):
        locks.append(("institution-year", program, loan.institution_id, year))
    if caps.per_enterprise_year_fen is not None or caps.per_enterprise_lifetime_fen is not None:
        owner = ("enterprise", loan.enterprise_id) if loan.enterprise_id is not None else ("individual", loan.individual_id)
        locks.append(("enterprise", program, *owner))
    if caps.program_budget:
        locks.append(("program-year", program, year))
    return locks


def _breaker_holds(session: Session, claim: Claim) -> bool:
    return breakers.holds_claims(session, institution_id=claim.institution_id, program_code=claim.program_code)


def _mark_loan_compensated(session: Session, claim: Claim) -> None:
    loan = session.get(Loan, claim.loan_id)
    loan.status = "compensated"
    session.add(loan)


def _evaluate_breakers(session: Session, claim: Claim, rule, today: date, principal: Principal) -> None:
    # The claimant (bank, or guarantor in a fund) and the lending bank each answer for their own metrics.
    loan = session.get(Loan, claim.loan_id)
    for institution_id in dict.fromkeys((claim.institution_id, loan.institution_id)):
        breakers.evaluate_breaker(session, rule=rule, institution_id=institution_id, year=today.year,
                                  actor=principal.actor)


CLAIM_REVIEW = review.Reviewable(
    subject_type="claim", noun="claim", get=_get_for_review, compute=_compute_for_review, cap_locks=_cap_locks,
    breaker_holds=_breaker_holds, on_paid=_mark_loan_compensated, on_approved=_evaluate_breakers)


def transition_claim(session: Session, *, principal: Principal, registry, claim_id: int, action: str,
                     expected_version: int, today: date, reason: str = "", amount_fen: int | None = None,
                     documents_requested: list[dict] | None = None, voucher_no: str = "") -> Claim:
    """Take one workflow action on a claim through the review engine (claims.services.review)."""
    return review.run_transition(session, CLAIM_REVIEW, principal=principal, registry=registry, item_id=claim_id,
                                 action=action, expected_version=expected_version, today=today, reason=reason,
                                 amount_fen=amount_fen, documents_requested=documents_requested, voucher_no=voucher_no)
