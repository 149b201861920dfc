from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.money import (
    FEN,
    AmountError,
    fen_floor,
    fen_times,
    format_fen,
    from_fen,
    parse_amount,
    rmb_upper,
    round_half_up,
    round_to_fen,
    split_largest_remainder,
    to_fen,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12345.60", Decimal("12345.60")), ("100", Decimal("100.00")), ("0.5", Decimal("0.50")), ("0", Decimal("0.00")),
     ("999999999999999.99", Decimal("999999999999999.99"))],
)
def test_parse_amount_accepts_plain_strings_with_at_most_two_decimals(text, expected):
    parsed = parse_amount(text)
    assert parsed == expected
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (100, "amount_not_string"),
        (Decimal("1.00"), "amount_not_string"),
        (12.5, "amount_not_string"),
        (True, "amount_not_string"),
        (None, "amount_not_string"),
        ("-12.30", "amount_negative"),
        ("12.345", "amount_too_precise"),
        ("1e5", "amount_invalid"),
        ("NaN", "amount_invalid"),
        ("Infinity", "amount_invalid"),
        (" 12.00", "amount_invalid"),
        ("12,000.00", "amount_invalid"),
        ("+12", "amount_invalid"),
        ("12.", "amount_invalid"),
        (".5", "amount_invalid"),
        ("", "amount_invalid"),
        ("1234567890123456", "amount_invalid"),
    ],
)
def test_parse_amount_rejects_anything_but_an_exact_non_negative_string(value, code):
    with pytest.raises(AmountError) as caught:
        parse_amount(value)
    assert caught.value.code == code


def test_to_fen_is_exact_and_refuses_sub_fen_amounts():
    assert to_fen(Decimal("12345.60")) == 1234560
    assert to_fen(Decimal("-0.01")) == -1
    assert to_fen(Decimal("1E+2")) == 10000
    with pytest.raises(AmountError) as caught:
        to_fen(Decimal("0.001"))
    assert caught.value.code == "amount_too_precise"


def test_from_fen_and_format_fen_give_two_places_including_negatives():
    assert from_fen(1234560) == Decimal("12345.60")
    assert format_fen(1234560) == "12345.60"
    assert format_fen(-1230) == "-12.30"
    assert format_fen(0) == "0.00"
    assert format_fen(5) == "0.05"


def test_rounding_is_half_up_to_the_fen_not_bankers_rounding():
    assert round_half_up(Decimal("0.125")) == Decimal("0.13")
    assert round_half_up(Decimal("0.135")) == Decimal("0.14")
    assert round_half_up(Decimal("-0.125")) == Decimal("-0.13")
    assert round_to_fen(Decimal("100.005")) == 10001
    assert round_to_fen(Decimal("100.0049999")) == 10000
    assert fen_times(101, Decimal("0.5")) == 51
    assert fen_floor(101, Decimal("0.5")) == 50


def test_a_4321_split_with_a_remainder_fen_goes_to_the_largest_remainder():
    # 100.01 yuan = 10001 fen: exact parts 4000.4 / 3000.3 / 2000.2 / 1000.1, floors sum to 10000,
    # the one leftover fen goes to the largest remainder (0.4, the guarantor).
    parts = split_largest_remainder(
        10001, {"guarantor": Decimal("0.4"), "reguarantor": Decimal("0.3"), "bank": Decimal("0.2"), "government": Decimal("0.1")}
    )
    assert parts == {"guarantor": 4001, "reguarantor": 3000, "bank": 2000, "government": 1000}


def test_equal_remainders_are_broken_by_the_order_weights_were_given():
    # 100 fen in thirds: 33.33 each, one leftover fen goes to whichever part was listed first.
    assert split_largest_remainder(100, {"b": Decimal(1), "a": Decimal(1), "c": Decimal(1)}) == {"b": 34, "a": 33, "c": 33}
    assert split_largest_remainder(100, {"c": Decimal(1), "a": Decimal(1), "b": Decimal(1)}) == {"c": 34, "a": 33, "b": 33}


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (0, "零元整"),
        (123456, "壹仟贰佰叁拾肆元伍角陆分"),
        (10000, "壹佰元整"),
        (1005, "壹拾元零伍分"),
        (10000000000, "壹亿元整"),
        (100000010, "壹佰万元壹角"),
        (5, "伍分"),
        (1001001, "壹万零壹拾元零壹分"),
        (-1230, "负壹拾贰元叁角"),
    ],
)
def test_rmb_upper_writes_financial_capitals(fen, words):
    assert rmb_upper(fen) == words


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=-10**12, max_value=10**14),
    weights=st.lists(st.decimals(min_value=0, max_value=1, places=4), min_size=1, max_size=6).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_splitting_never_creates_or_loses_a_fen(total, weights):
    named = {f"p{i}": w for i, w in enumerate(weights)}
    parts = split_largest_remainder(total, named)
    assert sum(parts.values()) == total
    weight_sum = sum(weights)
    for name, weight in named.items():
        exact = Decimal(total) * weight / weight_sum
        assert abs(Decimal(parts[name]) - exact) < 1


@settings(max_examples=200, deadline=None)
@given(fen=st.integers(min_value=0, max_value=10**17 - 1))
def test_fen_round_trips_through_strings_and_decimals(fen):
    assert to_fen(parse_amount(format_fen(fen))) == fen
    assert round_to_fen(from_fen(fen)) == fen


@settings(max_examples=200, deadline=None)
@given(value=st.decimals(min_value=-10**9, max_value=10**9, places=6))
def test_half_up_rounding_moves_a_value_by_at_most_half_a_fen(value):
    rounded = round_half_up(value)
    assert abs(rounded - value) <= FEN / 2
    assert rounded.as_tuple().exponent == -2
