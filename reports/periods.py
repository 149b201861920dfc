"""Settlement periods (month, quarter, year) in the bureau's local calendar, and their UTC bounds."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_KINDS = ("month", "quarter", "year")
_CODE = re.compile(r"^(?P<year>\d{4})(?:(?:-|M)(?P<month>\d{1,2})|Q(?P<quarter>[1-4]))?$")


class PeriodError(ValueError):
    """A period code that names no month, quarter or year."""


@dataclass(frozen=True)
class Period:
    """One settlement period: its kind, first and last local dates, a code for numbers and a Chinese label."""

    kind: str
    start: date
    end: date

    @property
    def code(self) -> str:
        """Compact code used in statement numbers: 2026M09, 2026Q3 or 2026."""
        if self.kind == "month":
            return f"{self.start.year}M{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    @property
    def label(self) -> str:
        """How the period is printed: 2026年9月, 2026年第3季度, 2026年度."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年度"

    def utc_bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) of the period as naive UTC timestamps, the way the ledger stores `at`."""
        zone = ZoneInfo(timezone)

        def utc(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

        return utc(self.start), utc(self.end + timedelta(days=1))


def period_containing(kind: str, day: date) -> Period:
    """The period of the given kind that contains the day."""
    if kind == "month":
        first_month, months = day.month, 1
    elif kind == "quarter":
        first_month, months = (day.month - 1) // 3 * 3 + 1, 3
    elif kind == "year":
        first_month, months = 1, 12
    else:
        raise PeriodError(f"unknown settlement period {kind!r}; expected one of {PERIOD_KINDS}")
    start = date(day.year, first_month, 1)
    next_index = day.year * 12 + first_month - 1 + months
    end = date(next_index // 12, next_index % 12 + 1, 1) - timedelta(days=1)
    return Period(kind, start, end)


def last_closed_period(kind: str, today: date) -> Period:
    """The most recent period of the kind that ended before today (the business date)."""
    current = period_containing(kind, today)
    return period_containing(kind, current.start - timedelta(days=1))


def parse_period(text: str) -> Period:
    """Read a period code: 2026-09 or 2026M09 (month), 2026Q3 (quarter), 2026 (year)."""
    match = _CODE.match(text.strip().upper())
    if not match:
        raise PeriodError(f"{text!r} is not a period; write 2026-09, 2026Q3 or 2026")
    year = int(match["year"])
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise PeriodError(f"{text!r}: month {month} does not exist")
        return period_containing("month", date(year, month, 1))
    if match["quarter"]:
        return period_containing("quarter", date(year, (int(match["quarter"]) - 1) * 3 + 1, 1))
    return period_containing("year", date(year, 1, 1))
