"""Conditions in program files ("when" tables): atoms about the loan and the firm, combined by all / any / not.

A "when" table holds atoms (list membership on a date, loan facts, declared loan attributes, recorded firm
attributes, security type, first loan, ranges with explicit edges) and the combinators `all`, `any` (lists
of "when" tables) and `not` (one "when" table). Everything written in one table must hold together, so a
table is itself an `all`. A condition is evaluated once per use: an uplift whose `any` has several members
met still counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property

from workflows.attribute_tests import DATE_KINDS, AttributeTest, FirmTest, read_attribute_tests, read_firm_tests
from workflows.facts import SECURITY_TYPES, LoanFacts
from workflows.ranges import Range, read_range
from workflows.rule_reader import Reader

__all__ = ["DATE_KINDS", "AttributeTest", "Condition", "FirmTest", "Range", "read_condition", "read_range"]


@dataclass(frozen=True)
class Condition:
    """All of the tests in a "when" table; an empty condition always holds."""

    lists_any: tuple[str, ...] = ()
    list_on: str = "disbursement"
    first_loan: bool | None = None
    policy_tool: bool | None = None
    security_types: tuple[str, ...] | None = None
    unsecured_share: Range | None = None
    principal: Range | None = None
    revenue: Range | None = None
    attributes: tuple[AttributeTest, ...] = ()
    firm: tuple[FirmTest, ...] = ()
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()
    none_of: Condition | None = None

    @cached_property
    def _checks(self) -> tuple[tuple[str, object, str, str], ...]:
        # The tests this condition makes, in order, as (kind, what is tested against, note if met, note if
        # not met), worked out once per condition; list, firm and combined notes are finished in notes().
        checks: list[tuple[str, object, str]] = []
        if self.lists_any:
            checks.append((_LISTS, self.lists_any, f"on list {' or '.join(self.lists_any)} on "))
        if self.first_loan is not None:
            checks.append((_FIRST_LOAN, self.first_loan, f"first_loan is {self.first_loan}"))
        if self.policy_tool is not None:
            checks.append((_POLICY_TOOL, self.policy_tool, f"policy_tool is {self.policy_tool}"))
        if self.security_types is not None:
            checks.append((_SECURITY, self.security_types, f"security type in {', '.join(self.security_types)}"))
        if self.unsecured_share is not None:
            checks.append((_UNSECURED, self.unsecured_share, f"unsecured share in {self.unsecured_share.describe()}"))
        if self.principal is not None:
            checks.append((_PRINCIPAL, self.principal, f"principal in {self.principal.describe()}"))
        if self.revenue is not None:
            checks.append((_REVENUE, self.revenue, f"revenue in {self.revenue.describe()}"))
        checks.extend((_ATTRIBUTE, test, f"declared loan attribute {test.describe()}") for test in self.attributes)
        checks.extend((_FIRM, test, "") for test in self.firm)
        if self.all_of:
            checks.append((_ALL, self.all_of, "all of"))
        if self.any_of:
            checks.append((_ANY, self.any_of, "any of"))
        if self.none_of is not None:
            checks.append((_NOT, self.none_of, "not"))
        return tuple((kind, arg, "met: " + note, "not met: " + note) for kind, arg, note in checks)

    @cached_property
    def date_kinds(self) -> frozenset[str]:
        """Every date this condition (and the conditions inside it) looks at."""
        kinds = {self.list_on} if self.lists_any else set()
        kinds |= {test.on for test in self.firm}
        for sub in (*self.all_of, *self.any_of, *((self.none_of,) if self.none_of is not None else ())):
            kinds |= sub.date_kinds
        return frozenset(kinds)

    def check(self, loan: LoanFacts, dates: Mapping[str, date | None]) -> tuple[bool, tuple]:
        """Tell whether the loan meets every test, with what the tests found, for notes() to word later."""
        ok = True
        on = None
        found: list = []
        for kind, arg, _, _ in self._checks:
            if kind is _LISTS:
                on = _date(dates, self.list_on)
                passed = False
                for membership in loan.enterprise.memberships:
                    if membership.category in arg and membership.covers(on):
                        passed = True
                        break
            elif kind is _FIRST_LOAN:
                passed = loan.first_loan == arg
            elif kind is _POLICY_TOOL:
                passed = loan.policy_tool == arg
            elif kind is _SECURITY:
                passed = loan.security_type in arg
            elif kind is _UNSECURED:
                passed = arg.contains(loan.unsecured_share)
            elif kind is _PRINCIPAL:
                passed = arg.contains(loan.principal_fen)
            elif kind is _REVENUE:
                revenue = loan.enterprise.revenue_fen
                passed = revenue is not None and arg.contains(revenue)
            elif kind is _ATTRIBUTE:
                value = loan.attributes.get(arg.name)
                if value is None and dates.get(self.list_on) is not None:
                    # Kept for files written before firm attributes were recorded: an undeclared loan
                    # attribute is looked up on the firm as of the list date.
                    recorded = loan.enterprise.attribute(arg.name, dates[self.list_on])
                    value = None if recorded is None else recorded.value
                passed = arg.holds(value)
            elif kind is _FIRM:
                passed, seen = arg.check(loan.enterprise, _date(dates, arg.on))
                found.append((passed, seen))
                ok = ok and passed
                continue
            else:
                outcomes = [sub.check(loan, dates) for sub in ((arg,) if kind is _NOT else arg)]
                if kind is _ALL:
                    passed = all(o[0] for o in outcomes)
                elif kind is _ANY:
                    passed = any(o[0] for o in outcomes)
                else:
                    passed = not outcomes[0][0]
                found.append((passed, outcomes))
                ok = ok and passed
                continue
            ok = ok and passed
            found.append(passed)
        return ok, (on, found)

    def notes(self, outcome: tuple) -> list[str]:
        """A line per test saying why it was met or not, from what check() found."""
        on, found = outcome
        notes = []
        for (kind, arg, met, not_met), seen in zip(self._checks, found, strict=True):
            if kind is _FIRM:
                passed, detail = seen
                notes.append(("met: " if passed else "not met: ") + arg.note(detail))
            elif kind in (_ALL, _ANY, _NOT):
                passed, outcomes = seen
                subs = (arg,) if kind is _NOT else arg
                inner = " | ".join("; ".join(sub.notes(o[1])) or "always" for sub, o in zip(subs, outcomes, strict=True))
                notes.append(f"{met if passed else not_met} [{inner}]")
            elif kind is _LISTS:
                notes.append(f"{met if seen else not_met}{on.isoformat()} ({self.list_on} date)")
            else:
                notes.append(met if seen else not_met)
        return notes

    def evaluate(self, loan: LoanFacts, dates: Mapping[str, date | None]) -> tuple[bool, list[str]]:
        """Tell whether the loan meets every test, with a line per test saying why."""
        ok, outcome = self.check(loan, dates)
        return ok, self.notes(outcome)


def _date(dates: Mapping[str, date | None], kind: str) -> date:
    on = dates.get(kind)
    if on is None:
        raise ValueError(f"condition looks at the firm on the {kind} date, which was not given")
    return on


# The kinds of test, compared by identity in check().
_LISTS, _FIRST_LOAN, _POLICY_TOOL, _SECURITY, _UNSECURED, _PRINCIPAL, _REVENUE, _ATTRIBUTE, _FIRM = (
    "lists", "first_loan", "policy_tool", "security", "unsecured", "principal", "revenue", "attribute", "firm")
_ALL, _ANY, _NOT = "all", "any", "not"


def read_condition(reader: Reader) -> Condition:
    """Read a "when" table into a Condition (its `all`, `any` and `not` recursively)."""
    lists = reader.strings("lists_any") or ()
    single = reader.string("list")
    if single is not None:
        lists = (*lists, single)
    condition = Condition(
        lists_any=tuple(lists),
        list_on=reader.choice("list_on", DATE_KINDS, default="disbursement") or "disbursement",
        first_loan=reader.boolean("first_loan"),
        policy_tool=reader.boolean("policy_tool"),
        security_types=reader.strings("security_types", choices=SECURITY_TYPES),
        unsecured_share=_optional_range(reader, "unsecured_share", amounts=False),
        principal=_optional_range(reader, "principal", amounts=True),
        revenue=_optional_range(reader, "revenue", amounts=True),
        attributes=read_attribute_tests(reader.table("attributes")),
        firm=read_firm_tests(reader),
        all_of=_read_many(reader, "all"),
        any_of=_read_many(reader, "any"),
        none_of=_read_one(reader, "not"),
    )
    if condition.unsecured_share is not None:
        share = condition.unsecured_share
        if any(b is not None and not Decimal(0) <= b <= Decimal(1) for b in (share.lower, share.upper)):
            reader.error("unsecured_share", "bounds must be ratios between 0 and 1")
    if reader.has("any") and not condition.any_of:
        reader.error("any", "needs at least one condition")
    reader.finish()
    return condition


def _read_many(reader: Reader, name: str) -> tuple[Condition, ...]:
    return tuple(read_condition(item) for item in reader.tables(name))


def _read_one(reader: Reader, name: str) -> Condition | None:
    sub = reader.table(name)
    return None if sub is None else read_condition(sub)


def _optional_range(reader: Reader, name: str, *, amounts: bool) -> Range | None:
    sub = reader.table(name)
    return None if sub is None else read_range(sub, amounts=amounts)
