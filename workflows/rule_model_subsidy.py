"""The typed rule objects of the subsidy, fee, reward and application sections of a program file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from workflows.conditions import Condition

if TYPE_CHECKING:
    from workflows.rule_model import Window


@dataclass(frozen=True)
class RateTier:
    """A raised subsidy share or rate for applicants meeting a condition (the highest applicable wins)."""

    name: str
    when: Condition
    share: Decimal | None = None
    rate: Decimal | None = None
    label: str | None = None


@dataclass(frozen=True)
class InterestRule:
    """How an interest subsidy is computed."""

    basis: str
    share: Decimal | None
    rate: Decimal | None
    borrower_pays_up_to_lpr_minus_bp: int | None
    rate_ceiling_lpr_plus_bp: int | None
    lpr_tenor: str
    lpr_fixing: str
    day_count: str
    current_loans_only: bool
    annual_cap_fen: int | None
    tiers: tuple[RateTier, ...]


@dataclass(frozen=True)
class FeeKindRule:
    """The subsidy on one kind of fee (guarantee fee or insurance premium)."""

    kind: str
    share: Decimal
    annual_cap_fen: int | None
    tiers: tuple[RateTier, ...] = ()
    label: str | None = None


@dataclass(frozen=True)
class SubsidyCaps:
    """Per-firm caps across all subsidy programs."""

    per_firm_year_fen: int | None = None
    per_firm_lifetime_fen: int | None = None


@dataclass(frozen=True)
class RewardRate:
    """The reward rate for one kind of institution on one basis."""

    institution_kind: str
    basis: str
    rate: Decimal
    label: str | None = None


@dataclass(frozen=True)
class RewardRule:
    """Institution rewards on new business."""

    rates: tuple[RewardRate, ...]
    per_institution_year_cap_fen: int | None = None

    def rate_for(self, institution_kind: str) -> RewardRate | None:
        """The rate for a kind of institution, or None if that kind earns nothing."""
        return next((r for r in self.rates if r.institution_kind == institution_kind), None)


@dataclass(frozen=True)
class DatedWindow:
    """A published application window: the period applied for and the days applications are taken (inclusive)."""

    period_start: date
    period_end: date
    opens_on: date
    closes_on: date
    label: str | None = None


@dataclass(frozen=True)
class ApplicationWindow:
    """When subsidy or reward applications for a period may be filed: by cadence, or in explicit dated windows."""

    cadence: str
    opens_days_after_period_end: int
    window: Window | None
    windows: tuple[DatedWindow, ...] = ()


@dataclass(frozen=True)
class FeeRule:
    """Subsidies on guarantee fees and insurance premiums."""

    kinds: tuple[FeeKindRule, ...]

    def kind(self, name: str) -> FeeKindRule | None:
        """The rule for a fee kind, or None when the program does not subsidise it."""
        return next((k for k in self.kinds if k.kind == name), None)
