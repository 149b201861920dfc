"""Exact money: Decimal yuan in code, integer fen in storage, half-up rounding, fair splits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext

import cn2an

FEN = Decimal("0.01")
MAX_INTEGER_DIGITS = 15

# Plain decimal notation only: no sign, no exponent, no spaces, at most two decimals.
_AMOUNT_PATTERN = re.compile(r"^(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]{1,2}))?$")


class AmountError(ValueError):
    """An amount that is not a valid, exact sum of money."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_amount(value: object) -> Decimal:
    """Parse an API amount string such as "12345.60" into a Decimal, rejecting anything inexact."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise AmountError("amount_not_string", f"amount must be a string like \"12345.60\", got {type(value).__name__}")
    match = _AMOUNT_PATTERN.match(value)
    if match is None:
        if value.startswith("-") and _AMOUNT_PATTERN.match(value[1:]):
            raise AmountError("amount_negative", f"amount must not be negative: {value!r}")
        if re.match(r"^-?[0-9]+\.[0-9]{3,}$", value):
            raise AmountError("amount_too_precise", f"amount has more than two decimals: {value!r}")
        raise AmountError("amount_invalid", f"not a plain decimal amount: {value!r}")
    digits = match.group("int").lstrip("0")
    if len(digits) > MAX_INTEGER_DIGITS:
        raise AmountError("amount_invalid", f"amount has more than {MAX_INTEGER_DIGITS} integer digits: {value!r}")
    return Decimal(value).quantize(FEN)


def to_fen(amount: Decimal) -> int:
    """Convert a Decimal yuan amount to integer fen, refusing anything finer than a fen."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise AmountError("amount_invalid", f"not a finite Decimal: {amount!r}")
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        raise AmountError("amount_too_precise", f"amount has more than two decimals: {amount}")
    return int(scaled)


def from_fen(fen: int) -> Decimal:
    """Convert integer fen to a Decimal yuan amount with two places."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise AmountError("amount_invalid", f"fen must be an int, got {type(fen).__name__}")
    return (Decimal(fen) / 100).quantize(FEN)


def format_fen(fen: int) -> str:
    """Format integer fen as a plain yuan string with two decimals, e.g. "12345.60"."""
    # Integer arithmetic gives the same text as Decimal at a fraction of the cost (every trace step formats);
    # the exact-type test first keeps the common case to one check.
    if type(fen) is not int and (isinstance(fen, bool) or not isinstance(fen, int)):
        raise AmountError("amount_invalid", f"fen must be an int, got {type(fen).__name__}")
    if fen < 0:
        return "-%d.%02d" % divmod(-fen, 100)  # noqa: UP031 - printf formatting is the fastest here
    return "%d.%02d" % divmod(fen, 100)  # noqa: UP031


def round_half_up(value: Decimal) -> Decimal:
    """Round a Decimal yuan value half-up to the fen."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def round_to_fen(value: Decimal) -> int:
    """Round a Decimal yuan value half-up to an integer number of fen."""
    return to_fen(round_half_up(value))


# The default context with room for any product of an amount and a ratio, so that product is exact
# and rounding happens only where asked. Passed explicitly: entering a local context costs more than the sum.
_EXACT = Context(prec=60)
_ONE = Decimal(1)


def fen_times(fen: int, factor: Decimal) -> int:
    """Multiply an amount in fen by an exact factor, rounding half-up to the fen once."""
    return int(_EXACT.multiply(Decimal(fen), factor).quantize(_ONE, ROUND_HALF_UP, _EXACT))


def fen_floor(fen: int, factor: Decimal) -> int:
    """Multiply an amount in fen by an exact factor, rounding down; used for limits, which must not grow."""
    return int(_EXACT.multiply(Decimal(fen), factor).to_integral_value(ROUND_FLOOR, _EXACT))


def split_largest_remainder(total_fen: int, weights: Mapping[str, Decimal]) -> dict[str, int]:
    """Split total_fen over weighted parts so the parts sum exactly; ties go to the part listed first."""
    if not weights:
        raise ValueError("cannot split over no parts")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights.values(), Decimal(0))
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    sign = -1 if total_fen < 0 else 1
    magnitude = abs(total_fen)
    floors: dict[str, int] = {}
    remainders: list[tuple[Decimal, int, str]] = []
    with localcontext() as ctx:
        ctx.prec = 60
        for order, (name, weight) in enumerate(weights.items()):
            exact = Decimal(magnitude) * weight / weight_sum
            whole = int(exact.to_integral_value(rounding=ROUND_FLOOR))
            floors[name] = whole
            remainders.append((exact - whole, order, name))
    leftover = magnitude - sum(floors.values())
    # Largest remainder first; equal remainders keep the order the weights were given in.
    for _, _, name in sorted(remainders, key=lambda item: (-item[0], item[1]))[:leftover]:
        floors[name] += 1
    return {name: sign * value for name, value in floors.items()}


def rmb_upper(fen: int) -> str:
    """Write an amount in fen as 人民币大写 (financial capital numerals), e.g. 壹佰元整."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise AmountError("amount_invalid", f"fen must be an int, got {type(fen).__name__}")
    if fen < 0:
        return "负" + rmb_upper(-fen)
    # cn2an truncates beyond two decimals, so it is only ever given an exact two-place string.
    return cn2an.an2cn(format_fen(fen), "rmb")
