"""Working days under the Chinese public-holiday calendar (调休 included), with data overrides."""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Mapping
from datetime import date, timedelta

import chinese_calendar


class WorkCalendar:
    """Decides working days: explicit overrides first, then chinese_calendar, then Monday to Friday."""

    def __init__(self, overrides: Mapping[date, bool] | None = None):
        self._overrides = dict(overrides or {})

    def is_working_day(self, d: date) -> bool:
        """Tell whether d is a working day."""
        if d in self._overrides:
            return self._overrides[d]
        try:
            return chinese_calendar.is_workday(d)
        except NotImplementedError:
            # The library only knows the years the State Council has published; beyond them, and
            # until the bureau loads that year's calendar as overrides, weekdays are working days.
            return d.weekday() < 5

    def add_working_days(self, d: date, n: int) -> date:
        """Return the date n working days after d (before d when n is negative); d itself never counts."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        current = d
        while remaining:
            current += timedelta(days=step)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days after start up to and including end (negative when end is before start)."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


def add_months(d: date, months: int) -> date:
    """Add calendar months to d, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last_day))


def days_in_year(year: int) -> int:
    """Number of days in a calendar year (366 in leap years)."""
    return 366 if _stdlib_calendar.isleap(year) else 365
