"""Use cases for subsidy and reward applications: filing inside the window, computing, review with budget effects.

Applications go through the same review flow as claims (workflows/flows.review_flow) and reserve, post
and release against their own program's budget exactly like claims, with subject_type "application".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_
from sqlmodel import Session, select

from claims.audit import record_event
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
from claims.services import review
from claims.services.review import CALENDAR
from claims.services.claims import _available_fen, _loan_facts, _plain
from workflows import eligibility
from workflows.money import format_fen
from workflows.flows import STAGE_OF_STATE
from workflows.periods import application_period, describe_periods, filing_days
from workflows.subsidy import (
    FeeFacts,
    InterestFacts,
    SubsidyError,
    SubsidyUsage,
    compute_fee_subsidy,
    compute_interest_subsidy,
    compute_reward,
)

SUBSIDY_KINDS = ("interest_subsidy", "fee_subsidy")
COMMITTED_STATES = ("approved", "paid")
CLOSED_STATES = ("rejected", "withdrawn")
EDITABLE_STATES = ("draft", "returned")
NOT_CURRENT_LOAN_STATES = ("overdue", "non_performing", "compensated")


@dataclass
class ApplicationInput:
    """What the institution states: program, period, the amount actually paid (or issued) and the loan."""

    program: str
    period_start: date
    period_end: date
    basis_fen: int
    loan_id: int | None = None
    fee_kind: str = ""
    outstanding_principal_fen: int | None = None
    note: str = ""


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


def registered_basis_fen(session: Session, *, institution: Institution, period_start: date, period_end: date) -> int:
    """Loans issued (bank) or underwritten (insurer) through guarantee insurance in the period, from registrations.

    A bank's basis is the principal of the insured loans it registered; an insurer's is the principal
    of the insured loans that name it as insurer (loan attribute `insurer` = its institution code).
    """
    party = (Loan.institution_id == institution.id if institution.kind == "bank"
             else Loan.attributes["insurer"].as_string() == institution.code)
    return int(session.exec(select(func.coalesce(func.sum(Loan.principal_fen), 0)).where(
        Loan.security_type == "insured", Loan.disbursed_on >= period_start, Loan.disbursed_on <= period_end,
        party)).one())


def _window(rule, period_end: date) -> dict | None:
    spec = rule.application
    period = application_period(spec, period_end, CALENDAR)
    if period is None and spec.windows:
        return None
    opens, closes = (period.first_day, period.last_day) if period else filing_days(spec, period_end, CALENDAR)
    length = spec.window.describe() if spec.window else None
    return {"opens": opens.isoformat(), "closes": closes.isoformat(), "length": length}


def _eligibility_reasons(session: Session, rule, institution: Institution, loan: Loan | None, data: ApplicationInput,
                         today: date) -> list[eligibility.Reason]:
    facts = _loan_facts(session, loan) if loan is not None else None
    reasons = eligibility.check_application(
        rule, period_end=data.period_end, applied_on=today, loan=facts,
        overdue=loan is not None and loan.status in NOT_CURRENT_LOAN_STATES,
        extended=loan is not None and bool((loan.attributes or {}).get("extended")),
        institution_kind=institution.kind, calendar=CALENDAR)
    Reason = eligibility.Reason
    period = application_period(rule.application, data.period_end, CALENDAR)
    if period is not None and not period.start <= data.period_start <= data.period_end:
        reasons.append(Reason("period_misaligned", f"the period must start between {period.start.isoformat()} and "
                              f"{data.period_end.isoformat()} ({describe_periods(rule.application)})", "period_start"))
    if rule.kind in SUBSIDY_KINDS:
        if loan is None:
            reasons.append(Reason("loan_required", "a subsidy is applied for on a registered loan", "loan_id"))
        elif loan.enterprise_id is None:
            reasons.append(Reason("loan_has_no_enterprise", "subsidies are for enterprises' loans", "loan_id"))
        elif loan.disbursed_on > data.period_end:
            reasons.append(Reason("period_before_disbursement", "the loan was disbursed after the period", "period_end"))
    elif loan is not None:
        reasons.append(Reason("reward_takes_no_loan", "a reward is applied for on the period's business, not a loan",
                              "loan_id"))
    if rule.kind == "fee_subsidy" and rule.fee.kind(data.fee_kind) is None:
        covered = ", ".join(k.kind for k in rule.fee.kinds)
        reasons.append(Reason("fee_kind_not_covered", f"fee_kind must be one of {covered}", "fee_kind"))
    if rule.kind != "fee_subsidy" and data.fee_kind:
        reasons.append(Reason("fee_kind_not_applicable", "fee_kind is only for fee subsidies", "fee_kind"))
    if rule.kind == "reward":
        registered = registered_basis_fen(session, institution=institution, period_start=data.period_start,
                                          period_end=data.period_end)
        if data.basis_fen > registered:
            reasons.append(Reason("basis_above_registered", f"{format_fen(data.basis_fen)} is more than the "
                                  f"{format_fen(registered)} of insured loans registered for the period", "basis"))
    return reasons


def _refuse(rule, data: ApplicationInput, today: date, reasons: list[eligibility.Reason]) -> Unprocessable:
    errors: dict[str, list[str]] = {}
    for reason in reasons:
        errors.setdefault(reason.field or "application", []).append(f"{reason.message} [{reason.code}]")
    extra: dict = {"reasons": [r.to_dict() for r in reasons]}
    detail = "The application does not meet the program's rules: " + "; ".join(r.message for r in reasons) + "."
    window = _window(rule, data.period_end) if rule.application is not None else None
    if window is not None:
        extra["window"] = window
        if any(r.code == eligibility.APPLICATION_LATE for r in reasons):
            # Late filings are refused, never back-dated: say which window was missed.
            detail = (f"Applications for the period ending {data.period_end.isoformat()} were open "
                      f"{window['opens']} to {window['closes']} "
                      f"({window['length'] + ' after the period end' if window['length'] else 'the published window'}); "
                      f"filed on {today.isoformat()}, it is late and cannot be accepted.")
    codes = {r.code for r in reasons}
    code = codes.pop() if len(codes) == 1 else "application_ineligible"
    return Unprocessable(detail, code=code, errors=errors, extra=extra)


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
    reasons = _eligibility_reasons(session, rule, institution, loan, data, today)
    if reasons:
        raise _refuse(rule, data, today, reasons)
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


def subsidy_usage(session: Session, *, application: Application, year: int,
                  budget_available_fen: int | None) -> SubsidyUsage:
    """What is already approved or paid against the caps this application counts against (itself excluded).

    Subsidies: the firm's amounts in this program (and fee kind) this year, and across every subsidy
    program this year and in total. Rewards: the institution's rewards in this program this year.
    """
    amount = func.coalesce(func.sum(func.coalesce(Application.approved_fen, 0)), 0)

    def total(*conditions) -> int:
        return int(session.exec(select(amount).where(Application.id != application.id,
                                                     Application.status.in_(COMMITTED_STATES), *conditions)).one())

    this_year = Application.budget_year == year
    in_program = Application.program_code == application.program_code
    if application.kind == "reward":
        return SubsidyUsage(program_year_fen=total(in_program, this_year,
                                                   Application.institution_id == application.institution_id),
                            program_budget_remaining_fen=budget_available_fen)
    firm = (Application.enterprise_id == application.enterprise_id, Application.kind.in_(SUBSIDY_KINDS))
    return SubsidyUsage(
        program_year_fen=total(*firm, in_program, this_year, Application.fee_kind == application.fee_kind),
        firm_year_all_subsidies_fen=total(*firm, this_year),
        firm_lifetime_all_subsidies_fen=total(*firm),
        program_budget_remaining_fen=budget_available_fen,
    )


def compute_application(session: Session, *, registry, application: Application, today: date) -> str | None:
    """Recompute the amount with today's cap usage and LPR history; store amount and trace; name the cap that bound."""
    rule = program_service.loaded_rule(session, registry, rule_version_id=application.rule_version_id)
    budget_fen = rule.annual_budget_fen(today.year)
    usage = subsidy_usage(session, application=application, year=today.year,
                          budget_available_fen=_available_fen(session, application.program_code, today.year,
                                                              budget_fen))
    loan = session.get(Loan, application.loan_id) if application.loan_id else None
    try:
        if application.kind == "interest_subsidy":
            facts = InterestFacts(
                loan=_loan_facts(session, loan), loan_rate=Decimal(loan.annual_rate),
                period_start=application.period_start, period_end=application.period_end,
                interest_paid_fen=application.basis_fen, outstanding_principal_fen=application.outstanding_principal_fen,
                overdue=loan.status in NOT_CURRENT_LOAN_STATES, extended=bool((loan.attributes or {}).get("extended")),
                applied_on=application.applied_on)
            result = compute_interest_subsidy(rule, facts, lpr.lpr_table(session), usage)
        elif application.kind == "fee_subsidy":
            facts = FeeFacts(loan=_loan_facts(session, loan), fee_kind=application.fee_kind,
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
    _check_version(application, expected_version)
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
        registered = registered_basis_fen(session, institution=institution, period_start=application.period_start,
                                          period_end=application.period_end)
        if application.basis_fen > registered:
            raise Unprocessable(f"{format_fen(application.basis_fen)} is more than the {format_fen(registered)} of "
                                f"insured loans registered for the period.", code="basis_above_registered",
                                errors={"basis": ["above the registered loans"]})
    compute_application(session, registry=registry, application=application, today=today)
    application.updated_at = utcnow()
    session.add(application)
    _flush_versioned(session)
    record_event(session, actor=principal.actor, entity="application", entity_id=application.id, action="corrected",
                 data={"before": {k: _plain(v) for k, v in before.items()},
                       "after": {k: _plain(v) for k, v in changes.items()}, "computed_fen": application.computed_fen})
    session.commit()
    return application


def _check_version(application: Application, expected_version: int) -> None:
    review.check_version(application, expected_version, "application")


def _flush_versioned(session: Session) -> None:
    review.flush_versioned(session, "application")


def flow_for(rule):
    """The review flow of a program's applications (the same stages and guards as claims)."""
    return review.flow_of(APPLICATION_REVIEW, rule)


def _get_for_review(session: Session, *, principal: Principal, item_id: int, lock: bool) -> Application:
    return get_application(session, principal=principal, application_id=item_id, lock=lock)


def _compute_for_review(session: Session, registry, application: Application, today: date) -> review.Computed:
    binding = compute_application(session, registry=registry, application=application, today=today)
    return review.Computed(application.computed_fen, binding, review.binding_step(application.trace or [], binding))


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
