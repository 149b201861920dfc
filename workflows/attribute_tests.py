"""Tests of one attribute: a loan attribute the bank declared, or a firm attribute recorded with its dates.

Firm attributes are recorded as text; a test reads the text as the type it compares with: a number
(Decimal) for a range or a numeric value, a boolean for true/false, a string otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from workflows.facts import EnterpriseFacts
from workflows.ranges import Range, read_range
from workflows.rule_reader import Reader

_RANGE_KEYS = ("at_least", "more_than", "at_most", "less_than")
_TRUE, _FALSE = frozenset({"true", "1", "yes", "是"}), frozenset({"false", "0", "no", "否"})
FISCAL_YEARS = ("prior", "same")
# The dates a rule can look at things on; "registration" is the day a loan is registered.
DATE_KINDS = ("disbursement", "default", "claim", "application", "registration")


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (ArithmeticError, InvalidOperation):
        return None
    return number if number.is_finite() else None


def _same(value: object, wanted: object) -> bool:
    # A value recorded as text is read as the type of what the program compares it with.
    if isinstance(value, str) and not isinstance(wanted, str):
        if isinstance(wanted, bool):
            text = value.strip().lower()
            return (text in _TRUE) if wanted else (text in _FALSE)
        number = _number(value)
        return number is not None and number == Decimal(wanted)
    return value == wanted


@dataclass(frozen=True)
class AttributeTest:
    """A test of one attribute: equality, membership or numeric range (a missing attribute never passes)."""

    name: str
    equals: object = None
    one_of: tuple | None = None
    range: Range | None = None

    def holds(self, value: object) -> bool:
        """Apply the test to an attribute value."""
        if value is None:
            return False
        if self.range is not None:
            number = _number(value)
            return number is not None and self.range.contains(number)
        if self.one_of is not None:
            return any(_same(value, wanted) for wanted in self.one_of)
        return _same(value, self.equals)

    def describe(self) -> str:
        """The test in words, such as "zone in 310115, 310104"."""
        if self.range is not None:
            return f"{self.name} in {self.range.describe()}"
        if self.one_of is not None:
            return f"{self.name} in {', '.join(str(v) for v in self.one_of)}"
        return f"{self.name} = {str(self.equals).lower() if isinstance(self.equals, bool) else self.equals}"


@dataclass(frozen=True)
class FirmTest:
    """A test of an attribute recorded on the firm, as in force on a date (of the prior or same fiscal year)."""

    test: AttributeTest
    on: str = "disbursement"
    fiscal_year: str | None = None

    def check(self, firm: EnterpriseFacts, on: date) -> tuple[bool, tuple]:
        """Whether the firm's recorded value passes, with (date, fiscal year, value) for the note."""
        year = None if self.fiscal_year is None else on.year - (1 if self.fiscal_year == "prior" else 0)
        recorded = firm.attribute(self.test.name, on, year)
        value = None if recorded is None else recorded.value
        return self.test.holds(value), (on, year, value)

    def note(self, seen: tuple) -> str:
        """The test and what was recorded, e.g. "firm revenue of fiscal year 2023 as of 2024-03-01 ... = 8000000.00"."""
        on, year, value = seen
        which = f" of fiscal year {year}" if year is not None else ""
        shown = "not recorded" if value is None else value
        return f"firm {self.test.name}{which} as of {on.isoformat()} ({self.on} date) = {shown}; wanted {self.test.describe()}"


def read_value_test(reader: Reader, name: str, value: object) -> AttributeTest | None:
    """One attribute test from a value, a list of values, or a range table."""
    if isinstance(value, dict):
        nested = reader.table(name)
        spec = read_range(nested, amounts=False) if nested is not None else None
        return AttributeTest(name, range=spec)
    if isinstance(value, list):
        return AttributeTest(name, one_of=tuple(value))
    if isinstance(value, bool | int | str | Decimal):
        return AttributeTest(name, equals=value)
    reader.error(name, f"must be a value, a list of values or a range table, got {value!r}")
    return None


def read_attribute_tests(sub: Reader | None) -> tuple[AttributeTest, ...]:
    """The `attributes` table of a condition: declared loan attribute name = value, [values] or range."""
    if sub is None:
        return ()
    tests = [read_value_test(sub, name, sub.raw(name)) for name in list(sub.data)]
    sub.finish()
    return tuple(t for t in tests if t is not None)


def read_firm_tests(reader: Reader) -> tuple[FirmTest, ...]:
    """The `firm` key of a condition: one table or an array of tables naming a recorded firm attribute."""
    if not reader.has("firm"):
        reader.raw("firm")
        return ()
    value = reader.data["firm"]
    items = reader.tables("firm") if isinstance(value, list) else [t for t in [reader.table("firm")] if t is not None]
    return tuple(t for t in (_read_firm_test(item) for item in items) if t is not None)


def _read_firm_test(item: Reader) -> FirmTest | None:
    name = item.string("name", required=True)
    on = item.choice("on", DATE_KINDS, default="disbursement") or "disbursement"
    fiscal_year = item.choice("fiscal_year", FISCAL_YEARS)
    given = [k for k in ("equals", "one_of", *_RANGE_KEYS) if item.has(k)]
    test = None
    if not given:
        item.error("name", "a firm test needs equals, one_of or a range (at_least, more_than, at_most, less_than)")
    elif "equals" in given or "one_of" in given:
        if len(given) > 1:
            item.error(given[1], "give one of equals, one_of or a range")
        key = given[0]
        raw = item.raw(key)
        if key == "one_of" and not (isinstance(raw, list) and raw):
            item.error(key, "must be a non-empty list of values")
        elif name:
            test = read_value_test(item, key, raw)
            test = None if test is None else AttributeTest(name, equals=test.equals, one_of=test.one_of)
    else:
        edges = {k: item.raw(k) for k in _RANGE_KEYS if item.has(k)}
        span = read_range(Reader(edges, item.prefix, item.sink), amounts=False)
        test = AttributeTest(name or "", range=span) if span is not None else None
    for key in _RANGE_KEYS:
        item.raw(key)
    item.finish()
    return None if test is None or not name else FirmTest(test, on=on, fiscal_year=fiscal_year)
