"""Conditions in program files ("when" tables) and the numeric ranges used by bands and limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property

from workflows.facts import SECURITY_TYPES, LoanFacts
from workflows.rule_reader import Reader

DATE_KINDS = ("disbursement", "default", "claim", "application")
_BOUNDS = ("at_least", "more_than", "at_most", "less_than")


@dataclass(frozen=True)
class Range:
    """An interval with explicit edges: published rules use both "more than 50 %" and "70 % or more"."""

    lower: Decimal | None = None
    lower_inclusive: bool = True
    upper: Decimal | None = None
    upper_inclusive: bool = True

    def contains(self, value: Decimal | int) -> bool:
        """Tell whether the value lies inside the interval."""
        if self.lower is not None and (value < self.lower or (value == self.lower and not self.lower_inclusive)):
            return False
        if self.upper is not None and (value > self.upper or (value == self.upper and not self.upper_inclusive)):
            return False
        return True

    def overlaps(self, other: Range) -> bool:
        """Tell whether two intervals share at least one point."""
        return not (_ends_before(self, other) or _ends_before(other, self))

    def describe(self, unit: str = "") -> str:
        """A short human form such as "(1000000, 5000000]"."""
        low = "(-inf" if self.lower is None else ("[" if self.lower_inclusive else "(") + f"{self.lower}{unit}"
        high = "+inf)" if self.upper is None else f"{self.upper}{unit}" + ("]" if self.upper_inclusive else ")")
        return f"{low}, {high}"


def _ends_before(a: Range, b: Range) -> bool:
    if a.upper is None or b.lower is None:
        return False
    if a.upper < b.lower:
        return True
    return a.upper == b.lower and not (a.upper_inclusive and b.lower_inclusive)


def read_range(reader: Reader, *, amounts: bool) -> Range | None:
    """Read a range table with at_least / more_than / at_most / less_than (amounts in yuan become fen)."""
    values: dict[str, Decimal] = {}
    for bound in _BOUNDS:
        if not reader.has(bound):
            reader.raw(bound)
            continue
        if amounts:
            fen = reader.amount_fen(bound)
            value = None if fen is None else Decimal(fen)
        else:
            value = reader.decimal(bound)
        if value is not None:
            values[bound] = value
    reader.finish()
    if "at_least" in values and "more_than" in values:
        reader.error("more_than", "cannot be combined with at_least")
        return None
    if "at_most" in values and "less_than" in values:
        reader.error("less_than", "cannot be combined with at_most")
        return None
    if not values:
        reader.error("at_least", "a range needs at least one of at_least, more_than, at_most, less_than")
        return None
    result = Range(
        lower=values.get("at_least", values.get("more_than")),
        lower_inclusive="more_than" not in values,
        upper=values.get("at_most", values.get("less_than")),
        upper_inclusive="less_than" not in values,
    )
    if result.lower is not None and result.upper is not None:
        touching = result.lower == result.upper and result.lower_inclusive and result.upper_inclusive
        if result.lower > result.upper or (result.lower == result.upper and not touching):
            reader.error("at_most" if result.upper_inclusive else "less_than", "range is empty")
            return None
    return result


@dataclass(frozen=True)
class AttributeTest:
    """A test of one custom loan or enterprise attribute: equality, membership or numeric range."""

    name: str
    equals: object = None
    one_of: tuple | None = None
    range: Range | None = None

    def holds(self, value: object) -> bool:
        """Apply the test to an attribute value (a missing attribute never passes)."""
        if value is None:
            return False
        if self.range is not None:
            if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
                return False
            try:
                return self.range.contains(Decimal(value))
            except ArithmeticError:
                return False
        if self.one_of is not None:
            return value in self.one_of
        return value == self.equals


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

    @cached_property
    def _checks(self) -> tuple[tuple[int, object, str, str], ...]:
        # The tests this condition makes, in order, as (kind, what is tested against, note if met, note if
        # not met), worked out once per condition; only a list note still needs its date appended.
        checks: list[tuple[int, object, str]] = []
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
            checks.append((_PRINCIPAL, self.principal, f"principal (fen) in {self.principal.describe()}"))
        if self.revenue is not None:
            checks.append((_REVENUE, self.revenue, f"revenue (fen) in {self.revenue.describe()}"))
        checks.extend((_ATTRIBUTE, test, f"attribute {test.name} matches") for test in self.attributes)
        return tuple((kind, arg, "met: " + note, "not met: " + note) for kind, arg, note in checks)

    def check(self, loan: LoanFacts, dates: Mapping[str, date | None]) -> tuple[bool, tuple]:
        """Tell whether the loan meets every test, with what the tests found, for notes() to word later."""
        ok = True
        on = None
        found = []
        for kind, arg, _, _ in self._checks:
            if kind is _LISTS:
                on = dates.get(self.list_on)
                if on is None:
                    raise ValueError(f"condition looks at list membership on the {self.list_on} date, which was not given")
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
            else:
                value = loan.attributes.get(arg.name)
                if value is None and dates.get(self.list_on) is not None:
                    recorded = loan.enterprise.attribute(arg.name, dates[self.list_on])
                    value = None if recorded is None else recorded.value
                passed = arg.holds(value)
            ok = ok and passed
            found.append(passed)
        return ok, (on, found)

    def notes(self, outcome: tuple) -> list[str]:
        """A line per test saying why it was met or not, from what check() found."""
        on, found = outcome
        notes = [met if passed else not_met for (_, _, met, not_met), passed in zip(self._checks, found, strict=True)]
        if self.lists_any:
            # The list test comes first, and its note ends with the date it looked at.
            notes[0] = f"{notes[0]}{on.isoformat()} ({self.list_on} date)"
        return notes

    def evaluate(self, loan: LoanFacts, dates: Mapping[str, date | None]) -> tuple[bool, list[str]]:
        """Tell whether the loan meets every test, with a line per test saying why."""
        ok, outcome = self.check(loan, dates)
        return ok, self.notes(outcome)


# The kinds of test, compared by identity in check().
_LISTS, _FIRST_LOAN, _POLICY_TOOL, _SECURITY, _UNSECURED, _PRINCIPAL, _REVENUE, _ATTRIBUTE = (
    "lists", "first_loan", "policy_tool", "security", "unsecured", "principal", "revenue", "attribute")


def read_condition(reader: Reader) -> Condition:
    """Read a "when" table into a Condition."""
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
        attributes=_read_attributes(reader),
    )
    if condition.unsecured_share is not None:
        share = condition.unsecured_share
        if any(b is not None and not Decimal(0) <= b <= Decimal(1) for b in (share.lower, share.upper)):
            reader.error("unsecured_share", "bounds must be ratios between 0 and 1")
    reader.finish()
    return condition


def _optional_range(reader: Reader, name: str, *, amounts: bool) -> Range | None:
    sub = reader.table(name)
    return None if sub is None else read_range(sub, amounts=amounts)


def _read_attributes(reader: Reader) -> tuple[AttributeTest, ...]:
    sub = reader.table("attributes")
    if sub is None:
        return ()
    tests = []
    for name in list(sub.data):
        value = sub.raw(name)
        if isinstance(value, dict):
            nested = sub.table(name)
            spec = read_range(nested, amounts=False) if nested is not None else None
            tests.append(AttributeTest(name, range=spec))
        elif isinstance(value, list):
            tests.append(AttributeTest(name, one_of=tuple(value)))
        elif isinstance(value, bool | int | str | Decimal):
            tests.append(AttributeTest(name, equals=value))
        else:
            sub.error(name, f"must be a value, a list of values or a range table, got {value!r}")
    sub.finish()
    return tuple(tests)
