"""Numeric ranges with explicit edges, used by conditions, bands, tiers and limits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from workflows.money import format_fen
from workflows.rule_reader import Reader

_BOUNDS = ("at_least", "more_than", "at_most", "less_than")


@dataclass(frozen=True)
class Range:
    """An interval with explicit edges: published rules use both "more than 50 %" and "70 % or more"."""

    lower: Decimal | None = None
    lower_inclusive: bool = True
    upper: Decimal | None = None
    upper_inclusive: bool = True
    in_fen: bool = False

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

    def describe(self) -> str:
        """A short human form such as "(1000000.00, 5000000.00] yuan" (amounts in yuan, ratios as written)."""
        low = "(-inf" if self.lower is None else ("[" if self.lower_inclusive else "(") + self._text(self.lower)
        high = "+inf)" if self.upper is None else self._text(self.upper) + ("]" if self.upper_inclusive else ")")
        return f"{low}, {high}" + (" yuan" if self.in_fen else "")

    def _text(self, bound: Decimal) -> str:
        return format_fen(int(bound)) if self.in_fen else str(bound)


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
        in_fen=amounts,
    )
    if result.lower is not None and result.upper is not None:
        touching = result.lower == result.upper and result.lower_inclusive and result.upper_inclusive
        if result.lower > result.upper or (result.lower == result.upper and not touching):
            reader.error("at_most" if result.upper_inclusive else "less_than", "range is empty")
            return None
    return result


