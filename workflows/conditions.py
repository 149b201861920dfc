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
    def _texts(self) -> dict[str, tuple[str, str]]:
        # The notes are constant but for the list date; worked out once per condition, not per loan.
        def both(note: str) -> tuple[str, str]:
            return "met: " + note, "not met: " + note

        texts = {"lists": both(f"on list {' or '.join(self.lists_any)} on "), "list_on": (f" ({self.list_on} date)",), "first_loan": both(f"first_loan is {self.first_loan}"),
                 "policy_tool": both(f"policy_tool is {self.policy_tool}")}
        if self.security_types is not None:
            texts["security_types"] = both(f"security type in {', '.join(self.security_types)}")
        for name, label in (("unsecured_share", "unsecured share"), ("principal", "principal (fen)"), ("revenue", "revenue (fen)")):
            if getattr(self, name) is not None:
                texts[name] = both(f"{label} in {getattr(self, name).describe()}")
        texts["attributes"] = tuple(both(f"attribute {test.name} matches") for test in self.attributes)
        return texts

    def evaluate(self, loan: LoanFacts, dates: Mapping[str, date | None]) -> tuple[bool, list[str]]:
        """Tell whether the loan meets every test, with a line per test saying why."""
        notes: list[str] = []
        ok = True
        texts = self._texts
        if self.lists_any:
            on = dates.get(self.list_on)
            if on is None:
                raise ValueError(f"condition looks at list membership on the {self.list_on} date, which was not given")
            lists = self.lists_any
            found = any(m.category in lists and m.covers(on) for m in loan.enterprise.memberships)
            ok = found
            notes.append(texts["lists"][not found] + on.isoformat() + texts["list_on"][0])
        if self.first_loan is not None:
            passed = loan.first_loan == self.first_loan
            ok = ok and passed
            notes.append(texts["first_loan"][not passed])
        if self.policy_tool is not None:
            passed = loan.policy_tool == self.policy_tool
            ok = ok and passed
            notes.append(texts["policy_tool"][not passed])
        if self.security_types is not None:
            passed = loan.security_type in self.security_types
            ok = ok and passed
            notes.append(texts["security_types"][not passed])
        if self.unsecured_share is not None:
            passed = self.unsecured_share.contains(loan.unsecured_share)
            ok = ok and passed
            notes.append(texts["unsecured_share"][not passed])
        if self.principal is not None:
            passed = self.principal.contains(loan.principal_fen)
            ok = ok and passed
            notes.append(texts["principal"][not passed])
        if self.revenue is not None:
            revenue = loan.enterprise.revenue_fen
            passed = revenue is not None and self.revenue.contains(revenue)
            ok = ok and passed
            notes.append(texts["revenue"][not passed])
        for test, text in zip(self.attributes, texts["attributes"], strict=True):
            passed = test.holds(loan.attributes.get(test.name, loan.enterprise.attributes.get(test.name)))
            ok = ok and passed
            notes.append(text[not passed])
        return ok, notes


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
