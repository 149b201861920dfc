"""What-if replay: history repriced under a baseline and a draft rule, caps and budget accumulated in the replay.

Pure: the caller streams the items in the order history approved them, with the facts each was computed
from, and the fixed bases of the proportional caps (principal registered, prior-year balance); the replay
keeps its own cap usage and budget per side, so a draft that pays more uses up a cap sooner exactly as
it would have.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cached_property
from operator import attrgetter
from pathlib import Path

from workflows.compensation import CompensationError, compute_compensation
from workflows.compensation_trace import uplift as render_uplift
from workflows.eligibility import RULE_NOT_IN_FORCE, check_claim
from workflows.facts import CapUsage, ClaimFacts, LoanFacts
from workflows.money import format_fen
from workflows.rules import ProgramRule
from workflows.subsidy import SubsidyUsage

COMMITTED = ("approved", "paid")


def engine_version() -> str:
    """A digest of the pure engine's source: two simulations with the same one ran the same arithmetic."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class HistoryItem:
    """One claim as history saw it: its facts, who bears its caps, and what history did with it."""

    claim_id: int
    institution_id: int
    owner: tuple  # ("enterprise", id) or ("individual", id): the per-enterprise caps' key
    loan: LoanFacts
    claim: ClaimFacts
    status: str  # the claim's state in history (approved and paid count against caps)
    budget_year: int
    on: date  # the day history approved it (or filed it, when it was never approved)
    requested_fen: int | None = None
    rule_version_id: int = 0  # the stored version history computed it under (the baseline's key)
    subject_type = "claim"

    @property
    def subject_id(self) -> int:
        """The claim's id."""
        return self.claim_id

    @cached_property
    def _levels(self) -> tuple[tuple[str, tuple], ...]:
        # Built once per item: both sides read them to price it and again to count its approval.
        year, registered = self.budget_year, self.loan.disbursed_on.year
        return (("enterprise_year", (*self.owner, year)), ("enterprise_lifetime", self.owner),
                ("institution_year", (self.institution_id, year)), ("cohort", (self.institution_id, registered)),
                ("budget", (year,)))

    def levels(self) -> tuple[tuple[str, tuple], ...]:
        """The cap levels an approval of this claim uses up, as (level, key)."""
        return self._levels

    def price(self, rule: ProgramRule, usage: Usage) -> Side:
        """This claim under the rule, with what the replay has granted so far on this side."""
        return price(rule, self, _cap_usage(rule, self, usage))

    @staticmethod
    def usage_from(values: list) -> CapUsage:
        """The cap usage a claim was priced with, from what usage_values stored."""
        return CapUsage(*values)

    def price_with(self, rule: ProgramRule, caps: CapUsage, bases: Bases | None = None) -> Side:
        """This claim under the rule with the cap usage it saw in a replay (an item's trace, on demand)."""
        return price(rule, self, caps)


class Side:
    """One item under one rule: its amount, eligibility, binding cap, uplifts that applied, cap usage and trace.

    The trace is written out only when read: the replay stores amounts, and an item's trace is rebuilt on
    demand (price it again with the cap usage it saw), so rendering it for every item would be wasted.
    """

    # A plain class with slots: the replay makes two per item, and a frozen dataclass's generated __init__
    # would set each field through object.__setattr__.
    __slots__ = ("_steps", "amount_fen", "binding_cap", "eligible", "reasons", "uplifts", "usage")

    def __init__(self, amount_fen: int, eligible: bool, binding_cap: str | None, uplifts: tuple[str, ...],
                 steps: list | Callable[[], list], reasons: tuple[str, ...] = (), usage=None) -> None:
        self.amount_fen, self.eligible, self.binding_cap, self.uplifts = amount_fen, eligible, binding_cap, uplifts
        self.reasons, self.usage, self._steps = reasons, usage, steps

    @property
    def trace(self) -> list:
        """Every step as plain data (written out on first read)."""
        if callable(self._steps):
            self._steps = self._steps()
        return self._steps


@dataclass(frozen=True)
class Outcome:
    """An item repriced: the baseline and the draft side by side."""

    item: HistoryItem
    baseline: Side
    draft: Side

    @property
    def delta_fen(self) -> int:
        """Draft minus baseline, in fen."""
        return self.draft.amount_fen - self.baseline.amount_fen

    @property
    def category(self) -> str:
        """The uplifts that applied under the draft (or the baseline when the draft pays nothing), or 'none'."""
        names = self.draft.uplifts or self.baseline.uplifts
        return "+".join(names) if names else "none"


@dataclass
class Bases:
    """The fixed bases of the proportional caps, read on demand: (institution, year) -> principal in fen."""

    registered: Callable[[int, int], int] = lambda institution, year: 0
    prior_balance: Callable[[int, int], int] = lambda institution, year: 0
    opening: Callable[[str, tuple], int] = lambda kind, key: 0  # usage before the replayed range
    budget_adjustment: Callable[[int], int] = lambda year: 0  # the bureau's changes to a year's appropriation
    lpr: object = None  # the LPR history an interest subsidy is computed from (workflows.subsidy.LprTable)
    calendar: object = None  # the working-day calendar application windows are counted in


@dataclass
class Usage:
    """What one side of the replay has granted so far, by cap level."""

    bases: Bases
    sums: dict = field(default_factory=dict)

    def used(self, kind: str, key: tuple) -> int:
        """What this side has granted at one cap level so far, from what history had used before the range."""
        return self.used_at((kind, key))

    def used_at(self, level: tuple[str, tuple]) -> int:
        """What this side has granted at one (level, key) so far, from what history had used before the range."""
        # A level's sum starts at what history had used before the range, read the first time it is asked for.
        try:
            return self.sums[level]
        except KeyError:
            opened = self.sums[level] = self.bases.opening(*level)
            return opened

    def add(self, item, amount: int) -> None:
        """Count an approval against every level the item uses."""
        sums, used_at = self.sums, self.used_at
        for level in item.levels():
            sums[level] = used_at(level) + amount


_CLAIM_USAGE = attrgetter(*(f.name for f in fields(CapUsage)))
_APPLICATION_USAGE = attrgetter(*(f.name for f in fields(SubsidyUsage)))


def usage_values(caps: CapUsage | SubsidyUsage) -> list:
    """A side's cap usage (CapUsage or SubsidyUsage) as its fields' values in order: what an item stores."""
    # Every field is an amount in fen or None (the replay never sets a date), so the list stores as JSON.
    return list((_CLAIM_USAGE if type(caps) is CapUsage else _APPLICATION_USAGE)(caps))


def year_budget(rule: ProgramRule, bases: Bases, year: int) -> int | None:
    """A program-year's budget as a side counts against it: the rule's, moved by the bureau's adjustments of it."""
    # Adjustments (追加/调减预算) are decisions of the bureau, not of the rule: both sides keep them.
    budget = rule.annual_budget_fen(year)
    return None if budget is None else budget + bases.budget_adjustment(year)


def _cap_usage(rule: ProgramRule, item: HistoryItem, usage: Usage) -> CapUsage:
    caps, year, inst = rule.caps, item.budget_year, item.institution_id
    enterprise_year, enterprise_lifetime, institution_year, cohort, budget_level = item.levels()
    used_at = usage.used_at
    by_registration = caps.share_of_registered_year == "registration_year"
    registered_year = cohort[1][1] if by_registration else year  # the cohort's key is the registration year
    remaining = None
    if caps.program_budget:
        budget = year_budget(rule, usage.bases, year)
        remaining = None if budget is None else max(budget - used_at(budget_level), 0)
    return CapUsage(
        enterprise_year_fen=used_at(enterprise_year),
        enterprise_lifetime_fen=used_at(enterprise_lifetime),
        institution_year_fen=used_at(institution_year),
        institution_registered_principal_fen=usage.bases.registered(inst, registered_year),
        institution_prior_year_balance_fen=usage.bases.prior_balance(inst, year),
        program_budget_remaining_fen=remaining,
        institution_cohort_fen=used_at(cohort) if by_registration else None)


def price(rule: ProgramRule, item: HistoryItem, usage: CapUsage) -> Side:
    """One item under one rule with the given cap usage: eligibility first, then the engine."""
    # The draft is asked "what if it had governed all this history", so its effective dates do not refuse.
    reasons = tuple(r.code for r in check_claim(rule, item.loan, item.claim) if r.code != RULE_NOT_IN_FORCE)
    try:
        result = compute_compensation(rule, item.loan, item.claim, usage)
    except CompensationError as exc:
        return Side(0, False, None, (), [{"step": "error", "value": exc.code, "detail": str(exc)}], (exc.code,),
                    usage)
    amount, binding, requested = result.amount_fen, result.binding_cap, item.requested_fen
    # As the live recompute does: the institution asked for less, so less is what it would have been paid.
    capped = requested is not None and requested < amount
    if capped:
        amount, binding = requested, "requested"

    def steps() -> list:
        trace = list(result.trace)
        if capped:
            trace.append({"step": "cap:requested", "value": format_fen(requested),
                          "detail": "the institution requested less than the computed amount"})
        return trace

    uplifts = tuple(entry[1].removeprefix("uplift:") for entry in result.record
                    if entry[0] is render_uplift and entry[3])
    eligible = not reasons and not result.reasons
    return Side(amount if eligible else 0, eligible, binding, uplifts, steps, reasons + tuple(result.reasons), usage)


def replay(items: Iterable, *, baseline: Callable[[HistoryItem], ProgramRule], draft: ProgramRule,
           bases: Bases | None = None) -> Iterator[Outcome]:
    """Each item repriced under its baseline rule and under the draft, in the order given (history's order).

    An item is a claim (HistoryItem) or an application (workflows.simulation_subsidy.ApplicationItem): each
    says which cap levels it uses and how it is priced.
    Only items history committed (approved or paid) use up caps and budget, on the side they were priced on.
    An item with `fixed_fen` (another program's approval, workflows.simulation_subsidy.SharedUsage) is not
    repriced: it uses up the caps it shares with this program by what history granted, on both sides.
    """
    bases = bases or Bases()
    usage = {"baseline": Usage(bases), "draft": Usage(bases)}
    for item in items:
        fixed = getattr(item, "fixed_fen", None)
        if fixed is not None:
            usage["baseline"].add(item, fixed)
            usage["draft"].add(item, fixed)
            continue
        sides = {}
        for name, rule in (("baseline", baseline(item)), ("draft", draft)):
            side = item.price(rule, usage[name])
            if item.status in COMMITTED and side.amount_fen:
                usage[name].add(item, side.amount_fen)
            sides[name] = side
        yield Outcome(item, sides["baseline"], sides["draft"])
