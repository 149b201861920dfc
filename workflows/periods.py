"""Application periods (month, quarter, half-year, year, or published dated windows) and day counts."""

from __future__ import annotations

import calendar as _stdlib_calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext

from workflows.calendar import WorkCalendar, days_in_year
from workflows.rule_model import ApplicationWindow

_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


@dataclass(frozen=True)
class ApplicationPeriod:
    """One period applications are filed for, and the first and last day they are taken."""

    start: date
    end: date
    first_day: date
    last_day: date
    label: str | None = None


def period_start(cadence: str, period_end: date) -> date:
    """The first day of the month, quarter, half-year or year that ends on period_end."""
    months = _MONTHS[cadence]
    first_month = period_end.month - (period_end.month - 1) % months
    return date(period_end.year, first_month, 1)


def ends_a_period(cadence: str, period_end: date) -> bool:
    """Tell whether the date is the last day of a calendar month, quarter, half-year or year."""
    last_day = _stdlib_calendar.monthrange(period_end.year, period_end.month)[1]
    return period_end.day == last_day and period_end.month % _MONTHS[cadence] == 0


def application_period(spec: ApplicationWindow, period_end: date, calendar: WorkCalendar | None = None
                       ) -> ApplicationPeriod | None:
    """The period ending on period_end with its filing days, or None when no period of the program ends then."""
    if spec.windows:
        window = next((w for w in spec.windows if w.period_end == period_end), None)
        if window is None:
            return None
        return ApplicationPeriod(window.period_start, window.period_end, window.opens_on, window.closes_on, window.label)
    if not ends_a_period(spec.cadence, period_end):
        return None
    return ApplicationPeriod(period_start(spec.cadence, period_end), period_end, *filing_days(spec, period_end, calendar))


def filing_days(spec: ApplicationWindow, period_end: date, calendar: WorkCalendar | None = None) -> tuple[date, date]:
    """The first and last day applications are taken for a period of a cadence program ending on period_end."""
    first_day = period_end + timedelta(days=spec.opens_days_after_period_end + 1)
    return first_day, spec.window.deadline(period_end, calendar)


def describe_periods(spec: ApplicationWindow) -> str:
    """What periods the program takes, for an error message."""
    if spec.windows:
        return "one of the published periods ending " + ", ".join(w.period_end.isoformat() for w in spec.windows)
    return f"the end of a {spec.cadence.replace('_', '-')}"


def day_count_days(start: date, end: date, day_count: str) -> int:
    """The days of the inclusive period [start, end] as the convention counts them (30/360: months of 30 days)."""
    if day_count != "30/360":
        return (end - start).days + 1
    # 30/360 (bond basis) on the half-open [start, end + 1 day): day 31 counts as 30.
    stop = end + timedelta(days=1)
    d1 = min(start.day, 30)
    d2 = min(stop.day, 30) if d1 == 30 else stop.day
    return 360 * (stop.year - start.year) + 30 * (stop.month - start.month) + (d2 - d1)


def year_fraction(start: date, end: date, day_count: str) -> Decimal:
    """The inclusive period [start, end] as a fraction of a year under the day-count convention."""
    days = day_count_days(start, end, day_count)
    if days <= 0:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 50
        if day_count in ("actual/360", "30/360"):
            return Decimal(days) / 360
        if day_count == "actual/365":
            return Decimal(days) / 365
        # actual/actual: each calendar year's days over that year's length (366 in a leap year).
        total = Decimal(0)
        cursor = start
        while cursor <= end:
            year_end = min(date(cursor.year, 12, 31), end)
            total += Decimal((year_end - cursor).days + 1) / days_in_year(cursor.year)
            cursor = year_end + timedelta(days=1)
        return total


def describe_fraction(start: date, end: date, day_count: str) -> str:
    """The pro-rating in words, e.g. "92 days / 360 (actual/360)"."""
    days = day_count_days(start, end, day_count)
    if day_count == "actual/actual":
        return f"{days} days, each over its year's length (actual/actual)"
    denominator = 365 if day_count == "actual/365" else 360
    return f"{days} days / {denominator} ({day_count})"
