"""Use cases for subsidy and reward applications: filing inside the window, computing, review with budget effects.

Applications go through the same review flow as claims (workflows/flows.review_flow) and reserve, post
and release against their own program's budget exactly like claims, with subject_type "application".
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_
from sqlmodel import Session, select

from claims.audit import plain, record_event
from claims.auth import Principal, within_programs
from claims.db import begin_write
from claims.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unprocessable,
)
from claims.models import Application, Decision, Institution, Loan
from claims.models.application import APPLICATION_KINDS
from claims.models.base import utcnow
from claims.paging import Page, PageRequest, fetch_page
from claims.services import lpr
from claims.services import programs as program_service
from claims.services import review, review_effects
from claims.services import application_checks as checks
from claims.services.application_checks import ApplicationInput, NOT_CURRENT_LOAN_STATES
from claims.services.claim_amounts import available_fen, loan_facts_of
from workflows.money import format_fen
from workflows.flows import STAGE_OF_STATE
from workflows.subsidy import (
    FeeFacts,
    InterestFacts,
    SubsidyError,
    compute_fee_subsidy,
    compute_interest_subsidy,
    compute_reward,
)

CLOSED_STATES = ("rejected", "withdrawn")
EDITABLE_STATES = ("draft", "returned")


def scoped_applications(principal: Principal):
    """The select of applications the caller may see: its own for an institution, all for staff."""
    statement = select(Application)
    if principal.is_institution:
        return statement.where(Application.institution_id == principal.institution_id)
    principal.require("reviewer", "approver", "payer", "admin", "auditor")
    return within_programs(principal, statement, Application.program_code)


def get_application(session: Session, *, principal: Principal, application_id: int, lock: bool = False) -> Application:
    """One application, or 404 when it does not exist or belongs to another institution."""
    statement = scoped_applications(principal).where(Application.id == application_id)
    if lock:
        statement = statement.with_for_update()
    application = session.exec(statement).first()
    if application is None:
        raise NotFound(f"No application {application_id}.")
    return application


def list_applications(session: Session, *, principal: Principal, page: PageRequest, status: str | None = None,
                      program: str | None = None, kind: str | None = None, institution_id: int | None = None,
                      loan_id: int | None = None, enterprise_id: int | None = None,
                      updated_since: datetime | None = None, sla_overdue_on: date | None = None,
                      sort: str | None = None) -> Page[Application]:
    """Applications visible to the caller, filtered; with a status filter the oldest submissions come first.

    sla_overdue_on keeps those whose stage was due before that date; sort="due" orders by the due date.
    """
    statement = scoped_applications(principal)
    if status:
        statement = statement.where(Application.status.in_([s.strip() for s in status.split(",")]))
    for column, value in ((Application.program_code, program), (Application.kind, kind),
                          (Application.institution_id, institution_id), (Application.loan_id, loan_id),
                          (Application.enterprise_id, enterprise_id)):
        if value is not None:
            statement = statement.where(column == value)
    if updated_since is not None:
        statement = statement.where(Application.updated_at >= updated_since)
    if sla_overdue_on:
        statement = statement.where(Application.stage_due_on < sla_overdue_on,
                                    Application.status.in_(tuple(STAGE_OF_STATE)))
    order = (Application.submitted_at, Application.id) if status else (Application.id.desc(),)
    if sort == "due":
        order = (Application.stage_due_on, Application.id)
    return fetch_page(session, statement.order_by(*order), page)


def decisions_of(session: Session, *, application: Application) -> list[Decision]:
    """Every decision taken on an application, oldest first."""
    return list(session.exec(select(Decision).where(Decision.subject_type == "application",
                                                    Decision.subject_id == application.id).order_by(Decision.id)))


def file_application(session: Session, *, principal: Principal, registry, data: ApplicationInput,
                     today: date) -> Application:
    """File a draft subsidy or reward application inside the program's window, with its amount computed."""
    if not principal.is_institution:
        raise Forbidden("Only an institution files applications, with its own API key.", code="institution_only")
    begin_write(session)
    program_service.get_program(session, code=data.program)
    institution = session.get(Institution, principal.institution_id)
    loan = None
    if data.loan_id is not None:
        # The lending bank applies for its borrower; a guarantor may apply for the fee on loans it guarantees.
        loan = session.exec(select(Loan).where(Loan.id == data.loan_id, or_(
            Loan.institution_id == principal.institution_id, Loan.guarantor_id == principal.institution_id))).first()
        if loan is None:
            raise NotFound(f"No loan {data.loan_id}.", errors={"loan_id": ["no such loan of yours"]})
    rule, row = program_service.rule_governing(session, registry, code=data.program, use="application", dates={
        "application": today, "disbursement": loan.disbursed_on if loan else None})
    if rule.kind not in APPLICATION_KINDS:
        raise Unprocessable(f"{data.program} is a {rule.kind}; file claims there, not applications.",
                            code="not_an_application_program", errors={"program": ["takes no applications"]})
    admission = program_service.admission_of(session, institution_id=institution.id, program_code=data.program)
    if admission is None or admission.status not in ("active", "claims_deferred"):
        raise Unprocessable(f"Your institution is not admitted (or is suspended) in {data.program}.",
                            code="not_admitted", errors={"program": ["not admitted"]})
    reasons = checks.eligibility_reasons(session, rule, institution, loan, data, today)
    if reasons:
        raise checks.refusal(rule, data, today, reasons)
    _refuse_duplicate(session, data, institution.id, rule.kind)
    application = Application(
        institution_id=institution.id, program_code=data.program, rule_version_id=row.id, kind=rule.kind,
        enterprise_id=loan.enterprise_id if loan else None, loan_id=loan.id if loan else None,
        fee_kind=data.fee_kind, period_start=data.period_start, period_end=data.period_end, applied_on=today,
        basis_fen=data.basis_fen, outstanding_principal_fen=data.outstanding_principal_fen, note=data.note)
    session.add(application)
    session.flush()
    compute_application(session, registry=registry, application=application, today=today)
    session.add(application)
    record_event(session, actor=principal.actor, entity="application", entity_id=application.id, action="filed",
                 data={"program": data.program, "kind": rule.kind, "loan_id": application.loan_id,
                       "period_end": data.period_end.isoformat(), "basis_fen": data.basis_fen,
                       "computed_fen": application.computed_fen})
    session.commit()
    return application


def _refuse_duplicate(session: Session, data: ApplicationInput, institution_id: int, kind: str) -> None:
    statement = select(Application.id).where(Application.program_code == data.program,
                                             Application.period_end == data.period_end,
                                             Application.status.not_in(CLOSED_STATES))
    if kind == "reward":
        statement = statement.where(Application.institution_id == institution_id)
    else:
        statement = statement.where(Application.loan_id == data.loan_id, Application.fee_kind == data.fee_kind)
    existing = session.exec(statement).first()
    if existing:
        raise Conflict(f"Application {existing} already covers this period.", code="application_exists",
                       extra={"application_id": existing})


def compute_application(session: Session, *, registry, application: Application, today: date) -> str | None:
    """Recompute the amount with today's cap usage and LPR history; store amount and trace; name the cap that bound."""
    rule = program_service.loaded_rule(session, registry, rule_version_id=application.rule_version_id)
    budget_fen = rule.annual_budget_fen(today.year)
    usage = checks.subsidy_usage(session, application=application, year=today.year,
                          budget_available_fen=available_fen(session, application.program_code, today.year,
                                                              budget_fen))
    loan = session.get(Loan, application.loan_id) if application.loan_id else None
    try:
        if application.kind == "interest_subsidy":
            facts = InterestFacts(
                loan=loan_facts_of(session, loan), loan_rate=Decimal(loan.annual_rate),
                period_start=application.period_start, period_end=application.period_end,
                interest_paid_fen=application.basis_fen, outstanding_principal_fen=application.outstanding_principal_fen,
                overdue=loan.status in NOT_CURRENT_LOAN_STATES, extended=bool((loan.attributes or {}).get("extended")),
                applied_on=application.applied_on)
            result = compute_interest_subsidy(rule, facts, lpr.lpr_table(session), usage)
        elif application.kind == "fee_subsidy":
            facts = FeeFacts(loan=loan_facts_of(session, loan), fee_kind=application.fee_kind,
                             fee_paid_fen=application.basis_fen, applied_on=application.applied_on)
            result = compute_fee_subsidy(rule, facts, usage)
        else:
            institution = session.get(Institution, application.institution_id)
            result = compute_reward(rule, institution.kind, application.basis_fen, usage)
    except SubsidyError as exc:
        raise Unprocessable(str(exc), code=exc.code) from exc
    except LookupError as exc:
        raise Unprocessable(f"The LPR history does not cover the period: {exc}.", code="lpr_missing") from exc
    application.computed_fen, application.trace = result.amount_fen, list(result.trace)
    return result.binding_cap


CORRECTABLE = ("basis_fen", "outstanding_principal_fen", "note")


def correct_application(session: Session, *, principal: Principal, registry, application_id: int,
                        expected_version: int, changes: dict, today: date) -> Application:
    """Correct a draft or returned application (退回补正); the amount is recomputed."""
    if not principal.is_institution:
        raise Forbidden("Only the applying institution corrects its application.", code="institution_only")
    begin_write(session)
    application = get_application(session, principal=principal, application_id=application_id, lock=True)
    review.check_version(application, expected_version, "application")
    if application.status not in EDITABLE_STATES:
        raise Conflict(f"Application {application.id} is {application.status}; only draft or returned applications "
                       f"can be corrected.", code="application_not_editable")
    unknown = sorted(set(changes) - set(CORRECTABLE))
    if unknown:
        raise Unprocessable(f"{', '.join(unknown)} cannot be corrected.", code="field_not_correctable",
                            errors={key: ["read-only"] for key in unknown})
    before = {k: getattr(application, k) for k in changes}
    for key, value in changes.items():
        setattr(application, key, value)
    if application.kind == "reward" and "basis_fen" in changes:
        institution = session.get(Institution, application.institution_id)
        registered = checks.registered_basis_fen(session, institution=institution,
                                                 period_start=application.period_start,
                                                 period_end=application.period_end)
        if application.basis_fen > registered:
            raise Unprocessable(f"{format_fen(application.basis_fen)} is more than the {format_fen(registered)} of "
                                f"insured loans registered for the period.", code="basis_above_registered",
                                errors={"basis": ["above the registered loans"]})
    compute_application(session, registry=registry, application=application, today=today)
    application.updated_at = utcnow()
    session.add(application)
    review.flush_versioned(session, "application")
    record_event(session, actor=principal.actor, entity="application", entity_id=application.id, action="corrected",
                 data={"before": {k: plain(v) for k, v in before.items()},
                       "after": {k: plain(v) for k, v in changes.items()}, "computed_fen": application.computed_fen})
    session.commit()
    return application


def flow_for(rule):
    """The review flow of a program's applications (the same stages and guards as claims)."""
    return review.flow_of(APPLICATION_REVIEW, rule)


def _get_for_review(session: Session, *, principal: Principal, item_id: int, lock: bool) -> Application:
    return get_application(session, principal=principal, application_id=item_id, lock=lock)


def _compute_for_review(session: Session, registry, application: Application, today: date) -> review_effects.Computed:
    binding = compute_application(session, registry=registry, application=application, today=today)
    return review_effects.Computed(application.computed_fen, binding, review_effects.binding_step(application.trace or [], binding))


def _cap_locks(session: Session, application: Application, rule, year: int) -> list[tuple]:
    """Caps an approval reads: the institution's (rewards) or the firm's across every subsidy program, then the program's."""
    locks = []
    if application.kind == "reward":
        locks.append(("institution-year", application.program_code, application.institution_id, year))
    elif application.enterprise_id is not None:
        # Per-firm caps span every subsidy program: approvals for one firm queue so none can pass the cap.
        locks.append(("enterprise", "subsidies", "enterprise", application.enterprise_id))
    # The remaining budget is always part of an application's usage (SubsidyUsage.program_budget_remaining_fen).
    locks.append(("program-year", application.program_code, year))
    return locks


def _no_breaker(_session: Session, _application: Application) -> bool:
    # Circuit breakers measure claim books (loss, payout, overdue rates); they hold claims, not applications.
    return False


APPLICATION_REVIEW = review.Reviewable(
    subject_type="application", noun="application", get=_get_for_review, compute=_compute_for_review,
    cap_locks=_cap_locks, breaker_holds=_no_breaker)


def transition_application(session: Session, *, principal: Principal, registry, application_id: int, action: str,
                           expected_version: int, today: date, reason: str = "",
                           amount_fen: int | None = None, documents_requested: list[dict] | None = None,
                           voucher_no: str = "") -> Application:
    """Take one workflow action on an application through the review engine (claims.services.review)."""
    return review.run_transition(session, APPLICATION_REVIEW, principal=principal, registry=registry,
                                 item_id=application_id, action=action, expected_version=expected_version, today=today,
                                 reason=reason, amount_fen=amount_fen, documents_requested=documents_requested,
                                 voucher_no=voucher_no)
