"""Whether a subsidy or reward application may be filed (window, eligibility, the refusal) and what its caps
have already used."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from claims.errors import Unprocessable
from claims.models import Application, Institution, Loan
from claims.services.claim_amounts import loan_facts_of
from claims.services.review import CALENDAR
from workflows import eligibility
from workflows.money import format_fen
from workflows.periods import application_period, describe_periods, filing_days
from workflows.subsidy import SubsidyUsage

SUBSIDY_KINDS = ("interest_subsidy", "fee_subsidy")
NOT_CURRENT_LOAN_STATES = ("overdue", "non_performing", "compensated")
COMMITTED_STATES = ("approved", "paid")


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


def filing_window(rule, period_end: date) -> dict | None:
    """When applications for the period ending period_end may be filed (None: no published window covers it)."""
    spec = rule.application
    period = application_period(spec, period_end, CALENDAR)
    if period is None and spec.windows:
        return None
    opens, closes = (period.first_day, period.last_day) if period else filing_days(spec, period_end, CALENDAR)
    length = spec.window.describe() if spec.window else None
    return {"opens": opens.isoformat(), "closes": closes.isoformat(), "length": length}


def eligibility_reasons(session: Session, rule, institution: Institution, loan: Loan | None,
                        data: ApplicationInput, today: date) -> list[eligibility.Reason]:
    """Every reason the program's rules refuse this application (empty: it may be filed)."""
    facts = loan_facts_of(session, loan) if loan is not None else None
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


def refusal(rule, data: ApplicationInput, today: date, reasons: list[eligibility.Reason]) -> Unprocessable:
    """The 422 for refused reasons: one code when they agree, the missed window named for a late filing."""
    errors: dict[str, list[str]] = {}
    for reason in reasons:
        errors.setdefault(reason.field or "application", []).append(f"{reason.message} [{reason.code}]")
    extra: dict = {"reasons": [r.to_dict() for r in reasons]}
    detail = "The application does not meet the program's rules: " + "; ".join(r.message for r in reasons) + "."
    window = filing_window(rule, data.period_end) if rule.application is not None else None
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
