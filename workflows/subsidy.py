"""Interest, guarantee-fee and premium subsidies, and institution rewards, each with its trace."""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

from workflows.facts import LoanFacts
from workflows.money import format_fen
from workflows.periods import describe_fraction, year_fraction
from workflows.rule_model import ProgramRule, RateTier
from workflows.trace import Trace

_BP = Decimal("0.0001")


@dataclass(frozen=True)
class LprFixing:
    """Loan Prime Rates (annual, as ratios) in force from a date until the next fixing."""

    effective_on: date
    one_year: Decimal
    five_year: Decimal


class LprTable:
    """The LPR history: which 1-year and 5-year rates were in force on any date."""

    def __init__(self, fixings: Iterable[LprFixing]):
        self.fixings = sorted(fixings, key=lambda f: f.effective_on)
        if not self.fixings:
            raise ValueError("an LPR table needs at least one fixing")
        self._dates = [f.effective_on for f in self.fixings]

    @classmethod
    def from_toml(cls, path: str | Path) -> LprTable:
        """Load a table of [[fixings]] with effective_on, one_year and five_year (ratios as strings)."""
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)
        return cls(
            LprFixing(f["effective_on"], Decimal(str(f["one_year"])), Decimal(str(f["five_year"])))
            for f in data["fixings"]
        )

    def rate_on(self, on: date, tenor: str = "1y") -> Decimal:
        """The LPR for the tenor ("1y" or "5y") in force on the date."""
        index = bisect_right(self._dates, on) - 1
        if index < 0:
            raise LookupError(f"no LPR fixing on or before {on.isoformat()}")
        fixing = self.fixings[index]
        return fixing.one_year if tenor == "1y" else fixing.five_year

    def segments(self, start: date, end: date) -> list[tuple[date, date]]:
        """Split the inclusive period [start, end] at each LPR change inside it."""
        cuts = [d for d in self._dates if start < d <= end]
        bounds = [start, *cuts]
        return [(s, (bounds[i + 1] - timedelta(days=1)) if i + 1 < len(bounds) else end) for i, s in enumerate(bounds)]


@dataclass(frozen=True)
class SubsidyUsage:
    """Subsidies already paid or reserved to this firm (or rewards to this institution)."""

    program_year_fen: int = 0
    firm_year_all_subsidies_fen: int = 0
    firm_lifetime_all_subsidies_fen: int = 0
    program_budget_remaining_fen: int | None = None


@dataclass(frozen=True)
class InterestFacts:
    """An interest-subsidy application for one loan and one period (both ends inclusive)."""

    loan: LoanFacts
    loan_rate: Decimal
    period_start: date
    period_end: date
    interest_paid_fen: int
    outstanding_principal_fen: int | None = None
    overdue: bool = False
    extended: bool = False
    applied_on: date | None = None


@dataclass(frozen=True)
class FeeFacts:
    """A guarantee-fee or insurance-premium subsidy application."""

    loan: LoanFacts
    fee_kind: str
    fee_paid_fen: int
    applied_on: date | None = None


@dataclass(frozen=True)
class SubsidyResult:
    """A computed subsidy or reward with the trace of how it was reached."""

    amount_fen: int
    trace: list[dict]
    gross_fen: int = 0
    binding_cap: str | None = None
    reasons: tuple[str, ...] = field(default=())


class SubsidyError(ValueError):
    """The inputs do not allow the subsidy to be computed."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _best_tier(base: Decimal, tiers: Iterable[RateTier], key: str, loan: LoanFacts, dates: dict, trace: Trace) -> Decimal:
    """The highest of the base value and every tier whose condition the loan meets."""
    best = base
    for tier in tiers:
        applies, notes = tier.when.evaluate(loan, dates)
        value = getattr(tier, key)
        if applies and value > best:
            best = value
        trace.add(f"tier:{tier.name}", value, {"applies": applies, "conditions": notes, "label": tier.label})
    return best


def _round_exact_fen(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _apply_caps(rule: ProgramRule, gross: int, usage: SubsidyUsage, program_cap_fen: int | None, trace: Trace) -> tuple[int, str | None]:
    caps = [
        ("per_firm_program_year", program_cap_fen, usage.program_year_fen),
        ("per_firm_year_all_subsidies", rule.subsidy_caps.per_firm_year_fen, usage.firm_year_all_subsidies_fen),
        ("per_firm_lifetime_all_subsidies", rule.subsidy_caps.per_firm_lifetime_fen, usage.firm_lifetime_all_subsidies_fen),
    ]
    return _bind_caps(rule, usage, gross, caps, trace)


def compute_interest_subsidy(rule: ProgramRule, facts: InterestFacts, lpr: LprTable, usage: SubsidyUsage | None = None) -> SubsidyResult:
    """Compute an interest subsidy for one period: share of interest paid, fixed points, or LPR-relative."""
    usage = usage or SubsidyUsage()
    spec = rule.interest
    if spec is None:
        raise SubsidyError("not_an_interest_subsidy", f"program {rule.code} has no [interest]")
    trace = Trace()
    trace.add("rule", f"{rule.code}@{rule.version}", {"source": rule.source, "sha256": rule.sha256})
    principal = facts.outstanding_principal_fen if facts.outstanding_principal_fen is not None else facts.loan.principal_fen
    trace.add("inputs", None, {"unit": "yuan", "principal": format_fen(principal), "loan_rate": facts.loan_rate,
                               "period_start": facts.period_start, "period_end": facts.period_end,
                               "interest_paid": format_fen(facts.interest_paid_fen), "overdue": facts.overdue,
                               "extended": facts.extended})
    if spec.current_loans_only and (facts.overdue or facts.extended):
        trace.amount("amount", 0, "no subsidy on overdue or extended loans")
        return SubsidyResult(0, trace.as_list(), reasons=("loan_not_current",))
    dates = {"disbursement": facts.loan.disbursed_on, "application": facts.applied_on}
    base_value = spec.rate if spec.basis == "fixed_rate" else spec.share
    value = None
    if base_value is not None:
        value = _best_tier(base_value, spec.tiers, "rate" if spec.basis == "fixed_rate" else "share", facts.loan, dates, trace)
        trace.add("rate" if spec.basis == "fixed_rate" else "share", value, "highest applicable")
    if spec.lpr_fixing == "disbursement":
        segments = [(facts.period_start, facts.period_end, lpr.rate_on(facts.loan.disbursed_on, spec.lpr_tenor))]
    else:
        segments = [(s, e, lpr.rate_on(s, spec.lpr_tenor)) for s, e in lpr.segments(facts.period_start, facts.period_end)]
    total_yf = year_fraction(facts.period_start, facts.period_end, spec.day_count)
    trace.add("day_count", f"{total_yf:.8f}", f"{facts.period_start.isoformat()} to {facts.period_end.isoformat()}: "
              f"{describe_fraction(facts.period_start, facts.period_end, spec.day_count)} = {total_yf:.8f} years")
    ceiling_spread = Decimal(spec.rate_ceiling_lpr_plus_bp or 0) * _BP
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(0)  # in fen, unrounded
        for start, end, rate in segments:
            yf = year_fraction(start, end, spec.day_count)
            ceiling = rate + ceiling_spread if spec.rate_ceiling_lpr_plus_bp is not None else None
            counted_rate = min(facts.loan_rate, ceiling) if ceiling is not None else facts.loan_rate
            if spec.basis == "interest_paid":
                # Interest above the rate ceiling does not count: scale the interest paid down to it.
                weight = yf / total_yf if total_yf else Decimal(0)
                scale = counted_rate / facts.loan_rate if facts.loan_rate > 0 else Decimal(0)
                part = Decimal(facts.interest_paid_fen) * weight * scale * value
                note = f"interest paid x {weight:.6f} of period x {scale:.6f} (rate ceiling) x share {value}"
            elif spec.basis == "fixed_rate":
                part = Decimal(principal) * value * yf
                note = f"principal x {value} x {yf:.8f} years"
            elif spec.basis == "lpr_share":
                part = Decimal(principal) * rate * value * yf
                note = f"principal x LPR {rate} x share {value} x {yf:.8f} years"
            else:
                floor_rate = rate - Decimal(spec.borrower_pays_up_to_lpr_minus_bp or 0) * _BP
                gap = max(counted_rate - floor_rate, Decimal(0))
                part = Decimal(principal) * gap * yf
                note = f"principal x ({counted_rate} - borrower's {floor_rate}) x {yf:.8f} years"
            exact += part
            trace.add("segment", f"{part / 100:.6f}", {"from": start, "to": end, "lpr": rate, "rate_ceiling": ceiling,
                                                      "days": describe_fraction(start, end, spec.day_count), "note": note,
                                                      "unit": "yuan"})
        gross = _round_exact_fen(exact)
    trace.amount("gross_before_paid_limit", gross, f"{exact / 100:.6f} yuan, half-up to the fen (the one rounding point)")
    if gross > facts.interest_paid_fen:
        gross = facts.interest_paid_fen
        trace.amount("limit:interest_paid", gross, "a subsidy never exceeds the interest actually paid")
    amount, binding = _apply_caps(rule, gross, usage, spec.annual_cap_fen, trace)
    return SubsidyResult(amount, trace.as_list(), gross_fen=gross, binding_cap=binding)


def compute_fee_subsidy(rule: ProgramRule, facts: FeeFacts, usage: SubsidyUsage | None = None) -> SubsidyResult:
    """Compute a guarantee-fee or insurance-premium subsidy: a share of the fee paid, within the caps."""
    usage = usage or SubsidyUsage()
    if rule.fee is None:
        raise SubsidyError("not_a_fee_subsidy", f"program {rule.code} has no [fee]")
    kind = rule.fee.kind(facts.fee_kind)
    trace = Trace()
    trace.add("rule", f"{rule.code}@{rule.version}", {"source": rule.source, "sha256": rule.sha256})
    trace.add("inputs", None, {"unit": "yuan", "fee_kind": facts.fee_kind, "fee_paid": format_fen(facts.fee_paid_fen)})
    if kind is None:
        trace.amount("amount", 0, f"the program does not subsidise {facts.fee_kind}")
        return SubsidyResult(0, trace.as_list(), reasons=("fee_kind_not_covered",))
    dates = {"disbursement": facts.loan.disbursed_on, "application": facts.applied_on}
    share = _best_tier(kind.share, kind.tiers, "share", facts.loan, dates, trace)
    trace.add("share", share, "highest applicable")
    with localcontext() as ctx:
        ctx.prec = 60
        gross = _round_exact_fen(Decimal(facts.fee_paid_fen) * share)
    trace.amount("gross", gross, f"{format_fen(facts.fee_paid_fen)} x {share}, half-up to the fen")
    amount, binding = _apply_caps(rule, gross, usage, kind.annual_cap_fen, trace)
    return SubsidyResult(amount, trace.as_list(), gross_fen=gross, binding_cap=binding)


def compute_reward(rule: ProgramRule, institution_kind: str, basis_fen: int, usage: SubsidyUsage | None = None) -> SubsidyResult:
    """Compute an institution reward: its kind's rate on loans issued or amounts underwritten."""
    usage = usage or SubsidyUsage()
    if rule.reward is None:
        raise SubsidyError("not_a_reward_program", f"program {rule.code} has no [reward]")
    trace = Trace()
    trace.add("rule", f"{rule.code}@{rule.version}", {"source": rule.source, "sha256": rule.sha256})
    rate = rule.reward.rate_for(institution_kind)
    trace.add("inputs", None, {"unit": "yuan", "institution_kind": institution_kind, "basis": format_fen(basis_fen)})
    if rate is None:
        trace.amount("amount", 0, f"{institution_kind} earns no reward in this program")
        return SubsidyResult(0, trace.as_list(), reasons=("institution_kind_not_rewarded",))
    with localcontext() as ctx:
        ctx.prec = 60
        gross = _round_exact_fen(Decimal(basis_fen) * rate.rate)
    trace.amount("gross", gross, f"{format_fen(basis_fen)} {rate.basis} x {rate.rate}, half-up to the fen")
    caps = [("per_institution_year", rule.reward.per_institution_year_cap_fen, usage.program_year_fen)]
    amount, binding = _bind_caps(rule, usage, gross, caps, trace)
    return SubsidyResult(amount, trace.as_list(), gross_fen=gross, binding_cap=binding)


def _bind_caps(rule, usage, gross: int, caps: list, trace: Trace) -> tuple[int, str | None]:
    """Lower the gross amount to the smallest room among the caps (and the program budget), tracing each."""
    if rule.caps.program_budget:
        if usage.program_budget_remaining_fen is None:
            raise SubsidyError("cap_input_missing", "the program budget cap needs the remaining budget")
        caps = [*caps, ("program_budget", usage.program_budget_remaining_fen, 0)]
    amount, binding = gross, None
    for name, limit, used in caps:
        if limit is None:
            continue
        room = max(limit - used, 0)
        bound = room < amount
        if bound:
            amount, binding = room, name
        trace.amount(f"cap:{name}", room, {"limit": format_fen(limit), "used": format_fen(used), "bound": bound})
    trace.amount("amount", amount, f"bound by {binding}" if binding else "no cap bound")
    return amount, binding
