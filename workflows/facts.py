"""Plain facts about enterprises, loans and claims that rules are evaluated against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

SECURITY_TYPES = frozenset({"unsecured", "ip_pledge", "guaranteed", "insured", "collateral", "pledge", "mixed"})
CLASSIFICATIONS = ("normal", "special_mention", "substandard", "doubtful", "loss")


@dataclass(frozen=True)
class ListMembership:
    """A firm's dated membership of a named enterprise list; both ends inclusive, open end as None."""

    category: str
    valid_from: date
    valid_to: date | None = None
    revoked_on: date | None = None

    def covers(self, on: date) -> bool:
        """Tell whether the membership is in force on the given date (a revoked entry stops on its revocation day)."""
        if self.revoked_on is not None and on >= self.revoked_on:
            return False
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True)
class EnterpriseAttribute:
    """One dated fact recorded on a firm (revenue of a fiscal year, research partner, zone, headcount).

    The value is kept as text, as recorded; conditions read it as a number, a boolean or a string as their
    test requires. Both ends of the validity are inclusive, an open end is None; a per-year figure names its
    fiscal year.
    """

    name: str
    value: str
    valid_from: date | None = None
    valid_to: date | None = None
    fiscal_year: int | None = None

    def covers(self, on: date) -> bool:
        """Tell whether the recorded value is in force on the given date."""
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)


def _memberships(items: Iterable[ListMembership | tuple]) -> tuple[ListMembership, ...]:
    return tuple(item if isinstance(item, ListMembership) else ListMembership(*item) for item in items)


@dataclass(frozen=True)
class EnterpriseFacts:
    """What the rules may look at about a borrowing firm (or an individual borrower)."""

    revenue_fen: int | None = None
    industry: str | None = None
    memberships: tuple[ListMembership, ...] = ()
    attributes: tuple[EnterpriseAttribute, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "memberships", _memberships(self.memberships))
        object.__setattr__(self, "attributes", tuple(
            item if isinstance(item, EnterpriseAttribute) else EnterpriseAttribute(*item) for item in self.attributes))

    def on_list(self, category: str, on: date) -> bool:
        """Tell whether the firm was on the named list on the given date."""
        return any(m.category == category and m.covers(on) for m in self.memberships)

    def attribute(self, name: str, on: date, fiscal_year: int | None = None) -> EnterpriseAttribute | None:
        """The recorded attribute in force on the date (of the given fiscal year, if asked); the latest start wins."""
        found = [a for a in self.attributes if a.name == name and a.covers(on)
                 and (fiscal_year is None or a.fiscal_year == fiscal_year)]
        if not found:
            return None
        return max(found, key=lambda a: (a.valid_from or date.min, a.fiscal_year or 0))


@dataclass(frozen=True)
class LoanFacts:
    """A registered (or to-be-registered) loan with the facts that drive eligibility and ratios."""

    principal_fen: int
    disbursed_on: date
    maturity_on: date
    security_type: str = "unsecured"
    unsecured_share: Decimal = Decimal(1)
    first_loan: bool = False
    policy_tool: bool = False
    attributes: Mapping[str, object] = field(default_factory=dict)
    enterprise: EnterpriseFacts = field(default_factory=EnterpriseFacts)
    revenue_fen: int | None = None
    memberships: tuple[ListMembership, ...] = ()

    def __post_init__(self) -> None:
        # Callers may give revenue and memberships on the loan itself; fold them into the enterprise.
        if self.revenue_fen is not None or self.memberships:
            enterprise = EnterpriseFacts(
                revenue_fen=self.revenue_fen if self.revenue_fen is not None else self.enterprise.revenue_fen,
                industry=self.enterprise.industry,
                memberships=tuple(self.enterprise.memberships) + _memberships(self.memberships),
                attributes=self.enterprise.attributes,
            )
            object.__setattr__(self, "enterprise", enterprise)
            object.__setattr__(self, "memberships", ())
            object.__setattr__(self, "revenue_fen", None)
        object.__setattr__(self, "attributes", dict(self.attributes))
        if not isinstance(self.unsecured_share, Decimal):
            raise TypeError("unsecured_share must be a Decimal")


@dataclass(frozen=True)
class ClaimFacts:
    """A loss claim on a defaulted loan."""

    default_on: date
    outstanding_principal_fen: int
    unpaid_interest_fen: int = 0
    interest_days: int = 0
    recovered_before_claim_fen: int = 0
    claimed_on: date | None = None
    classification: str | None = None
    classified_on: date | None = None
    lawsuit_accepted_on: date | None = None


@dataclass(frozen=True)
class CapUsage:
    """Amounts already paid or reserved against each cap, and the bases of the proportional caps."""

    enterprise_year_fen: int = 0
    enterprise_lifetime_fen: int = 0
    institution_year_fen: int = 0
    institution_registered_principal_fen: int | None = None
    # The balance outstanding on 1 January of the claim's budget year: loans repaid, written off or
    # closed before that day count nothing, the rest their principal still outstanding on that day.
    institution_prior_year_balance_fen: int | None = None
    program_budget_remaining_fen: int | None = None
    # Approved on the institution's loans registered in the claimed loan's registration year (all budget
    # years): what a "share of registered" cap counted by registration year has used.
    institution_cohort_fen: int | None = None
    institution_prior_year_balance_on: date | None = None
