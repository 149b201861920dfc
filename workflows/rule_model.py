"""The typed rule objects a validated program file becomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from workflows.calendar import WorkCalendar, add_months
from workflows.conditions import Condition, Range
from workflows.rule_model_subsidy import (  # noqa: F401 - re-exported: one module names every rule object
    ApplicationWindow,
    DatedWindow,
    FeeKindRule,
    FeeRule,
    InterestRule,
    RateTier,
    RewardRate,
    RewardRule,
    SubsidyCaps,
)

if TYPE_CHECKING:
    from workflows.gates import Gate
    from workflows.program_lists import ListDeclaration
from workflows.evidence import CorrectionRule, DocumentRule

KINDS = ("risk_pool", "guarantee_fund", "interest_subsidy", "fee_subsidy", "reward")
COMPENSATION_KINDS = ("risk_pool", "guarantee_fund")
SETTLEMENT_PERIODS = ("month", "quarter", "year")
APPLICATION_CADENCES = ("month", "quarter", "half_year", "year")
REVIEW_ROLES = ("reviewer", "approver", "payer", "admin")
# Which year's registered principal a "share of registered" cap counts: the claim's (approval) year, or the
# year the loan was registered in (never zero, since the claimed loan is in it).
REGISTERED_YEAR_BASES = ("claim_year", "registration_year")
BREAKER_METRICS = ("loss_ratio", "non_performing_ratio", "overdue_rate", "payout_rate")
BREAKER_ACTIONS = ("defer_claims", "suspend_registrations")
INSTITUTION_KINDS = ("bank", "insurer", "guarantor")
FEE_KINDS = ("guarantee_fee", "insurance_premium")
INTEREST_BASES = ("interest_paid", "fixed_rate", "lpr_share", "lpr_excess")
DAY_COUNTS = ("actual/actual", "actual/365", "actual/360", "30/360")
BAND_MEASURES = ("principal", "revenue", "unsecured_share")
# "program_floored": the program's part is floored and the others share the rest by largest remainder
# (public money never pays a rounding fen); "largest_remainder": every party by largest remainder.
SPLIT_POLICIES = ("program_floored", "largest_remainder")


@dataclass(frozen=True)
class Window:
    """A period after a start date: calendar days, calendar months or working days; the last day counts."""

    days: int | None = None
    months: int | None = None
    working_days: int | None = None

    def deadline(self, start: date, calendar: WorkCalendar | None = None) -> date:
        """The last day inside the window that starts on `start`."""
        if self.months is not None:
            return add_months(start, self.months)
        if self.working_days is not None:
            return (calendar or WorkCalendar()).add_working_days(start, self.working_days)
        return date.fromordinal(start.toordinal() + (self.days or 0))

    def describe(self) -> str:
        """A short form such as "3 months"."""
        if self.months is not None:
            return f"{self.months} months"
        if self.working_days is not None:
            return f"{self.working_days} working days"
        return f"{self.days} days"


@dataclass(frozen=True)
class ReviewStage:
    """One review stage: who acts and within how many working days."""

    name: str
    role: str
    sla_working_days: int
    label: str | None = None


@dataclass(frozen=True)
class Breaker:
    """A circuit breaker: when the metric passes the threshold, the action holds the institution."""

    metric: str
    threshold: Decimal
    action: str
    label: str | None = None


@dataclass(frozen=True)
class RegistrationRule:
    """Limits on loans entering the program."""

    window: Window | None = None
    min_principal_fen: int | None = None
    max_principal_fen: int | None = None
    max_term_months: int | None = None
    security_types: tuple[str, ...] | None = None
    one_bank_per_firm_per_year: bool = False
    exclude_double_coverage: bool = False
    principal_limits: tuple[PrincipalLimit, ...] = ()

    def principal_limit_for(self, loan, dates) -> tuple[int | None, str | None]:
        """The maximum principal for this loan: the first matching conditional limit, else max_principal."""
        for limit in self.principal_limits:
            if limit.when.evaluate(loan, dates)[0]:
                return limit.max_principal_fen, limit.name
        return self.max_principal_fen, None


@dataclass(frozen=True)
class PrincipalLimit:
    """A maximum principal for loans meeting a condition (e.g. individuals vs small firms)."""

    name: str
    when: Condition
    max_principal_fen: int


@dataclass(frozen=True)
class EnterpriseRule:
    """Conditions on the borrowing firm."""

    lists_any: tuple[str, ...] = ()
    list_on: str = "disbursement"
    max_revenue_fen: int | None = None
    excluded_industries: tuple[str, ...] = ()
    when: Condition | None = None


@dataclass(frozen=True)
class ClaimRule:
    """When a defaulted loan may be claimed, and until when."""

    trigger_days_overdue: int | None = None
    trigger_classifications: tuple[str, ...] = ()
    trigger_lawsuit: bool = False
    window: Window | None = None


@dataclass(frozen=True)
class Band:
    """A base ratio (a tier) for loans whose measure falls in the range and that meet its condition, if any."""

    range: Range
    ratio: Decimal
    when: Condition | None = None
    label: str | None = None


@dataclass(frozen=True)
class Uplift:
    """A raised ratio for loans meeting a condition: `add` points, or a `ratio` that wins if highest."""

    name: str
    when: Condition
    add: Decimal | None = None
    ratio: Decimal | None = None
    label: str | None = None


@dataclass(frozen=True)
class RiskShare:
    """One party's share of a guaranteed loss; `program` marks the party this program pays for."""

    party: str
    share: Decimal
    program: bool = False
    label: str | None = None


@dataclass(frozen=True)
class CompensationRule:
    """How a loss becomes a payout ratio."""

    loss_base: str
    interest_day_cap: int | None
    base_ratio: Decimal | None
    band_by: str | None
    bands: tuple[Band, ...]
    combine: str
    uplifts: tuple[Uplift, ...]
    ceiling: Decimal
    payer_party: str
    split_policy: str = "program_floored"


@dataclass(frozen=True)
class Caps:
    """Amount caps; None means the program sets no such cap."""

    per_loan_fen: int | None = None
    per_enterprise_year_fen: int | None = None
    per_enterprise_lifetime_fen: int | None = None
    per_institution_year_fen: int | None = None
    per_institution_year_share_of_registered: Decimal | None = None
    per_institution_year_share_of_prior_balance: Decimal | None = None
    share_of_registered_year: str = "claim_year"
    program_budget: bool = True


@dataclass(frozen=True)
class ProgramRule:
    """One validated, effective-dated version of a program."""

    code: str
    version: str
    kind: str
    name: str
    effective_from: date
    effective_to: date | None
    source: str
    governing_date: str
    settlement_period: str
    review_stages: tuple[ReviewStage, ...]
    breakers: tuple[Breaker, ...]
    budget_by_year: Mapping[int, int]
    default_annual_budget_fen: int | None
    registration: RegistrationRule
    enterprise: EnterpriseRule
    claim: ClaimRule | None
    compensation: CompensationRule | None
    risk_shares: tuple[RiskShare, ...]
    caps: Caps
    interest: InterestRule | None
    fee: FeeRule | None
    subsidy_caps: SubsidyCaps
    reward: RewardRule | None
    application: ApplicationWindow | None
    assumed: tuple[str, ...]
    path: Path | None
    sha256: str
    raw: Mapping = field(repr=False, compare=False, default_factory=dict)
    # Stages that must each be taken by a different person; None: every stage of the program.
    separation_of_duties: tuple[str, ...] | None = None
    documents: DocumentRule = field(default_factory=DocumentRule)
    correction: CorrectionRule | None = None

    @property
    def distinct_stages(self) -> tuple[str, ...]:
        """The stages no one person may take two of on one item."""
        if self.separation_of_duties is not None:
            return self.separation_of_duties
        return tuple(s.name for s in self.review_stages) or ("first_review", "second_review", "payment")
    governing: Mapping[str, str] = field(default_factory=dict)
    gates: tuple[Gate, ...] = ()
    lists: tuple[ListDeclaration, ...] = ()
    examples: tuple[Mapping, ...] = field(default=(), repr=False, compare=False)

    def governing_for(self, use_case: str) -> str:
        """The date kind that picks this program's version for a use case (registration, filing, application)."""
        return self.governing.get(use_case, self.governing_date)

    @property
    def breaker(self) -> Breaker | None:
        """The first circuit breaker, or None when the program has none."""
        return self.breakers[0] if self.breakers else None

    @property
    def interest_covered(self) -> bool:
        """Whether unpaid interest is part of the loss base."""
        return self.compensation is not None and self.compensation.loss_base == "principal_and_interest"

    def in_force_on(self, on: date) -> bool:
        """Tell whether this version is in force on the date (both ends inclusive)."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def annual_budget_fen(self, year: int) -> int | None:
        """The program's budget for a fiscal year in fen, or None when no budget is set."""
        return self.budget_by_year.get(year, self.default_annual_budget_fen)

    def to_dict(self) -> dict:
        """The validated parameters as JSON-serialisable data (decimals and dates as strings)."""
        return _jsonable(self.raw)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
