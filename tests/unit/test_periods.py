"""Settlement periods: which one closed last, how it prints, and where it starts and ends in UTC."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from reports.periods import PeriodError, last_closed_period, parse_period, period_containing
from reports.statements import StatementConfig, statement_number


def test_the_last_closed_period_is_the_one_before_the_business_date():
    today = date(2026, 1, 5)
    assert (last_closed_period("month", today).start, last_closed_period("month", today).end) == (
        date(2025, 12, 1), date(2025, 12, 31))
    quarter = last_closed_period("quarter", today)
    assert (quarter.start, quarter.end, quarter.code, quarter.label) == (
        date(2025, 10, 1), date(2025, 12, 31), "2025Q4", "2025年第4季度")
    year = last_closed_period("year", today)
    assert (year.start, year.end, year.code, year.label) == (date(2025, 1, 1), date(2025, 12, 31), "2025", "2025年度")
    # On the first day of a quarter the quarter that just ended is the closed one.
    assert last_closed_period("quarter", date(2026, 10, 1)).code == "2026Q3"


def test_february_ends_on_its_last_day_in_a_leap_year():
    february = period_containing("month", date(2028, 2, 10))
    assert (february.end, february.code, february.label) == (date(2028, 2, 29), "2028M02", "2028年2月")


def test_a_period_starts_and_ends_at_shanghai_midnight_in_utc():
    start, end = parse_period("2026Q3").utc_bounds("Asia/Shanghai")
    assert (start, end) == (datetime(2026, 6, 30, 16, 0), datetime(2026, 9, 30, 16, 0))


@pytest.mark.parametrize("text, code", [("2026-09", "2026M09"), ("2026m9", "2026M09"), ("2026q3", "2026Q3"),
                                        ("2025", "2025")])
def test_period_codes_read_as_written(text, code):
    assert parse_period(text).code == code


@pytest.mark.parametrize("text", ["2026Q5", "2026-13", "26Q1", "last quarter"])
def test_a_period_code_that_names_nothing_is_refused(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_numbers_and_issuers_follow_program_and_party():
    assert statement_number("sz-sme-pool", parse_period("2026Q3"), "BANK_A", 2) == "SZ-SME-POOL-2026Q3-BANK_A-v2"
    config = StatementConfig(issuers={"sz-": "深圳市财政局", "sz-tech-": "深圳市科技创新局"})
    assert (config.issuer_for("sz-tech-fee"), config.issuer_for("sz-sme-pool"), config.issuer_for("nb-x")) == (
        "深圳市科技创新局", "深圳市财政局", "市财政局")
