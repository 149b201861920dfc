"""Eligibility of registrations, claims and applications: every failing reason, each with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from workflows.calendar import WorkCalendar, add_months
from workflows.facts import ClaimFacts, LoanFacts
from workflows.compensation_bands import band_measure, matching_band
from workflows.money import format_fen
from workflows.periods import application_period, describe_periods, filing_days
from workflows.rule_model import EnterpriseRule, ProgramRule

# Stable reason codes; clients and the API rely on them, so they never change meaning.
RULE_NOT_IN_FORCE = "rule_not_in_force"
REGISTERED_BEFORE_DISBURSEMENT = "registered_before_disbursement"
REGISTRATION_WINDOW_CLOSED = "registration_window_closed"
PRINCIPAL_BELOW_MINIMUM = "principal_below_minimum"
PRINCIPAL_ABOVE_LIMIT = "principal_above_limit"
MATURITY_NOT_AFTER_DISBURSEMENT = "maturity_not_after_disbursement"
TERM_TOO_LONG = "term_too_long"
SECURITY_TYPE_NOT_ALLOWED = "security_type_not_allowed"
ENTERPRISE_NOT_ON_LIST = "enterprise_not_on_list"
REVENUE_UNKNOWN = "revenue_unknown"
REVENUE_ABOVE_CEILING = "revenue_above_ceiling"
INDUSTRY_EXCLUDED = "industry_excluded"
ENTERPRISE_CONDITION_NOT_MET = "enterprise_condition_not_met"
ANOTHER_BANK_THIS_YEAR = "another_bank_this_year"
DOUBLE_COVERAGE = "double_coverage"
NOT_A_CLAIM_PROGRAM = "not_a_claim_program"
CLAIM_DATE_MISSING = "claim_date_missing"
DEFAULT_BEFORE_DISBURSEMENT = "default_before_disbursement"
TRIGGER_NOT_MET = "trigger_not_met"
CLAIM_WINDOW_CLOSED = "claim_window_closed"
NO_LOSS = "no_loss"
PERIOD_MISALIGNED = "period_misaligned"
APPLICATION_TOO_EARLY = "application_too_early"
APPLICATION_LATE = "application_late"
LOAN_NOT_CURRENT = "loan_not_current"
INSTITUTION_KIND_NOT_REWARDED = "institution_kind_not_rewarded"
GATE_NOT_MET = "gate_not_met"
NO_TIER_APPLIES = "no_tier_applies"


@dataclass(frozen=True)
class Reason:
    """One reason a request fails, with a stable code, a readable message and the field concerned."""

    code: str
    message: str
    field: str | None = None

    def to_dict(self) -> dict:
        """The reason as plain data for an API error body."""
        return {"code": self.code, "message": self.message, "field": self.field}


@dataclass(frozen=True)
class EligibilityContext:
    """Facts about the request beyond the loan: when it is made, by whom, and what else covers the loan."""

    registered_on: date | None = None
    institution_id: str | None = None
    firm_banks_this_year: frozenset[str] = frozenset()
    other_coverage: tuple[str, ...] = ()
    calendar: WorkCalendar | None = None


def _in_force(rule: ProgramRule, dates: dict, use_case: str) -> list[Reason]:
    kind = rule.governing_for(use_case)
    on = dates.get(kind)
    if on is not None and not rule.in_force_on(on):
        until = rule.effective_to.isoformat() if rule.effective_to else "open end"
        return [Reason(RULE_NOT_IN_FORCE, f"{rule.code}@{rule.version} is in force {rule.effective_from.isoformat()} to "
                       f"{until}, not on the {kind} date {on.isoformat()} that governs {use_case}", kind)]
    return []


def check_gates(rule: ProgramRule, loan: LoanFacts, dates: dict, use_case: str) -> list[Reason]:
    """A reason, labelled as the program labels it, for each gate of this use case the loan does not pass."""
    reasons = []
    for gate in rule.gates:
        if use_case not in gate.at:
            continue
        if gate.tier_applies:
            passed, why = tier_applies(rule, loan, dates)
        else:
            passed, notes = gate.when.evaluate(loan, dates)
            why = "; ".join(n for n in notes if n.startswith("not met"))
        if not passed:
            reasons.append(Reason(GATE_NOT_MET, f"{gate.label}: {why}", f"gates.{gate.name}"))
    return reasons


def tier_applies(rule: ProgramRule, loan: LoanFacts, dates: dict) -> tuple[bool, str]:
    """Whether one of the program's tiers (compensation bands, or subsidy tiers) applies, and if not why."""
    comp = rule.compensation
    if comp is not None and comp.bands:
        measured, shown = band_measure(comp, loan)
        if matching_band(comp, loan, dates) is not None:
            return True, ""
        return False, f"no tier applies ({comp.band_by} {shown})"
    tiers = rule.interest.tiers if rule.interest is not None else tuple(t for k in (rule.fee.kinds if rule.fee else ())
                                                                        for t in k.tiers)
    if any(t.when.check(loan, dates)[0] for t in tiers):
        return True, ""
    return False, "no tier applies"


def check_enterprise(spec: EnterpriseRule, loan: LoanFacts, dates: dict) -> list[Reason]:
    """Reasons the borrowing firm does not qualify: lists on the date, revenue ceiling, industry, conditions."""
    reasons: list[Reason] = []
    firm = loan.enterprise
    if spec.lists_any:
        on = dates.get(spec.list_on)
        if on is None or not any(firm.on_list(c, on) for c in spec.lists_any):
            when = on.isoformat() if on else f"the {spec.list_on} date"
            reasons.append(Reason(ENTERPRISE_NOT_ON_LIST, f"firm is on none of {', '.join(spec.lists_any)} on {when}", "enterprise.memberships"))
    if spec.max_revenue_fen is not None:
        if firm.revenue_fen is None:
            reasons.append(Reason(REVENUE_UNKNOWN, "the program has a revenue ceiling and the firm's revenue is unknown", "enterprise.revenue"))
        elif firm.revenue_fen > spec.max_revenue_fen:
            reasons.append(Reason(REVENUE_ABOVE_CEILING, f"revenue {format_fen(firm.revenue_fen)} is above the ceiling "
                                  f"{format_fen(spec.max_revenue_fen)}", "enterprise.revenue"))
    if firm.industry and any(firm.industry.upper().startswith(p.upper()) for p in spec.excluded_industries):
        reasons.append(Reason(INDUSTRY_EXCLUDED, f"industry {firm.industry} is excluded", "enterprise.industry"))
    if spec.when is not None:
        met, notes = spec.when.evaluate(loan, dates)
        if not met:
            reasons.append(Reason(ENTERPRISE_CONDITION_NOT_MET, "; ".join(n for n in notes if n.startswith("not met")), "enterprise"))
    return reasons


def check_registration(rule: ProgramRule, loan: LoanFacts, context: EligibilityContext) -> list[Reason]:
    """Every reason the loan cannot be registered in the program (an empty list means it can)."""
    dates = {"disbursement": loan.disbursed_on, "application": context.registered_on,
             "registration": context.registered_on}
    reasons = _in_force(rule, dates, "registration")
    spec = rule.registration
    if context.registered_on is not None:
        if context.registered_on < loan.disbursed_on:
            reasons.append(Reason(REGISTERED_BEFORE_DISBURSEMENT, "a loan is registered after it is disbursed", "disbursed_on"))
        elif spec.window is not None:
            deadline = spec.window.deadline(loan.disbursed_on, context.calendar)
            if context.registered_on > deadline:
                reasons.append(Reason(REGISTRATION_WINDOW_CLOSED, f"registration closed on {deadline.isoformat()} "
                                      f"({spec.window.describe()} after disbursement)", "disbursed_on"))
    if spec.min_principal_fen is not None and loan.principal_fen < spec.min_principal_fen:
        reasons.append(Reason(PRINCIPAL_BELOW_MINIMUM, f"principal is below {format_fen(spec.min_principal_fen)}", "principal"))
    limit, limit_name = spec.principal_limit_for(loan, dates)
    if limit is not None and loan.principal_fen > limit:
        which = f" ({limit_name})" if limit_name else ""
        reasons.append(Reason(PRINCIPAL_ABOVE_LIMIT, f"principal {format_fen(loan.principal_fen)} is above the limit "
                              f"{format_fen(limit)}{which}", "principal"))
    if loan.maturity_on <= loan.disbursed_on:
        reasons.append(Reason(MATURITY_NOT_AFTER_DISBURSEMENT, "maturity must be after disbursement", "maturity_on"))
    elif spec.max_term_months is not None and loan.maturity_on > add_months(loan.disbursed_on, spec.max_term_months):
        reasons.append(Reason(TERM_TOO_LONG, f"term is longer than {spec.max_term_months} months", "maturity_on"))
    if spec.security_types is not None and loan.security_type not in spec.security_types:
        reasons.append(Reason(SECURITY_TYPE_NOT_ALLOWED, f"security type {loan.security_type} is not one of "
                              f"{', '.join(spec.security_types)}", "security_type"))
    reasons.extend(check_enterprise(rule.enterprise, loan, dates))
    reasons.extend(check_gates(rule, loan, dates, "registration"))
    if spec.one_bank_per_firm_per_year:
        others = sorted(b for b in context.firm_banks_this_year if b != context.institution_id)
        if others:
            reasons.append(Reason(ANOTHER_BANK_THIS_YEAR, f"the firm already borrows under this program this year from {', '.join(others)}",
                                  "enterprise"))
    if spec.exclude_double_coverage and context.other_coverage:
        reasons.append(Reason(DOUBLE_COVERAGE, f"the loan is already covered by {', '.join(context.other_coverage)}", "loan"))
    return reasons


def check_claim(rule: ProgramRule, loan: LoanFacts, claim: ClaimFacts, context: EligibilityContext | None = None) -> list[Reason]:
    """Every reason the loss claim cannot be filed: trigger not met, window closed, nothing lost."""
    context = context or EligibilityContext()
    if rule.claim is None:
        return [Reason(NOT_A_CLAIM_PROGRAM, f"{rule.code} is a {rule.kind}: it takes no loss claims", "program")]
    spec = rule.claim
    dates = {"disbursement": loan.disbursed_on, "default": claim.default_on, "claim": claim.claimed_on}
    reasons = _in_force(rule, dates, "filing")
    if claim.claimed_on is not None:
        reasons.extend(check_gates(rule, loan, dates, "filing"))
    comp = rule.compensation
    if comp is not None and comp.bands and not rule.risk_shares and claim.claimed_on is not None:
        # A claim whose ratio would come from no band computes 0.00: refuse it now, saying why.
        passed, why = tier_applies(rule, loan, dates)
        if not passed and not any(r.code == GATE_NOT_MET for r in reasons):
            reasons.append(Reason(NO_TIER_APPLIES, f"nothing would be payable: {why}", "loan"))
    if claim.default_on < loan.disbursed_on:
        reasons.append(Reason(DEFAULT_BEFORE_DISBURSEMENT, "the default date is before disbursement", "default_on"))
    if claim.outstanding_principal_fen - claim.recovered_before_claim_fen <= 0 and claim.unpaid_interest_fen <= 0:
        reasons.append(Reason(NO_LOSS, "nothing remains unrecovered", "outstanding_principal"))
    if claim.claimed_on is None:
        reasons.append(Reason(CLAIM_DATE_MISSING, "the claim date is needed to check the trigger and the window", "claimed_on"))
        return reasons
    trigger_dates: list[date] = []
    if spec.trigger_days_overdue is not None:
        trigger_dates.append(claim.default_on + timedelta(days=spec.trigger_days_overdue))
    if claim.classification in spec.trigger_classifications:
        trigger_dates.append(claim.classified_on or claim.claimed_on)
    if spec.trigger_lawsuit and claim.lawsuit_accepted_on is not None:
        trigger_dates.append(claim.lawsuit_accepted_on)
    triggered = sorted(d for d in trigger_dates if d <= claim.claimed_on)
    if not triggered:
        overdue = (claim.claimed_on - claim.default_on).days
        wanted = []
        if spec.trigger_days_overdue is not None:
            wanted.append(f"{spec.trigger_days_overdue} days overdue (now {overdue})")
        if spec.trigger_classifications:
            wanted.append(f"classified {'/'.join(spec.trigger_classifications)}")
        if spec.trigger_lawsuit:
            wanted.append("a lawsuit accepted")
        reasons.append(Reason(TRIGGER_NOT_MET, "claim trigger not met: needs " + " or ".join(wanted), "default_on"))
    elif spec.window is not None:
        deadline = spec.window.deadline(triggered[0], context.calendar)
        if claim.claimed_on > deadline:
            reasons.append(Reason(CLAIM_WINDOW_CLOSED, f"claims closed on {deadline.isoformat()} ({spec.window.describe()} "
                                  f"after the trigger on {triggered[0].isoformat()})", "claimed_on"))
    return reasons


def check_application(
    rule: ProgramRule,
    *,
    period_end: date,
    applied_on: date,
    loan: LoanFacts | None = None,
    overdue: bool = False,
    extended: bool = False,
    institution_kind: str | None = None,
    calendar: WorkCalendar | None = None,
) -> list[Reason]:
    """Every reason a subsidy or reward application for the period is refused (late filings are not back-dated)."""
    dates = {"application": applied_on, "disbursement": loan.disbursed_on if loan else None}
    reasons = _in_force(rule, dates, "application")
    window = rule.application
    period = None if window is None else application_period(window, period_end, calendar)
    if window is not None and period is None:
        reasons.append(Reason(PERIOD_MISALIGNED, f"{period_end.isoformat()} is not {describe_periods(window)}", "period_end"))
    days = (period.first_day, period.last_day) if period is not None else \
        filing_days(window, period_end, calendar) if window is not None and not window.windows else None
    if days is not None:
        if applied_on < days[0]:
            reasons.append(Reason(APPLICATION_TOO_EARLY, f"applications for this period open on {days[0].isoformat()}",
                                  "applied_on"))
        elif applied_on > days[1]:
            reasons.append(Reason(APPLICATION_LATE, f"applications for this period closed on {days[1].isoformat()}",
                                  "applied_on"))
    if rule.interest is not None and rule.interest.current_loans_only and (overdue or extended):
        reasons.append(Reason(LOAN_NOT_CURRENT, "no subsidy on overdue or extended loans", "loan"))
    if loan is not None and rule.kind in ("interest_subsidy", "fee_subsidy"):
        reasons.extend(check_enterprise(rule.enterprise, loan, dates))
        reasons.extend(check_gates(rule, loan, dates, "application"))
    if rule.reward is not None and institution_kind is not None and rule.reward.rate_for(institution_kind) is None:
        reasons.append(Reason(INSTITUTION_KIND_NOT_REWARDED, f"{institution_kind} earns no reward in this program", "institution"))
    return reasons
