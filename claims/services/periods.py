"""Which subsidy and reward periods take applications on a date, per program (banks plan their filings on it)."""
from __future__ import annotations

import calendar as stdlib_calendar
from datetime import date

from workflows import eligibility
from workflows.calendar import add_months
from workflows.rules import NoRuleInForce

from claims.errors import NotFound
from claims.services.application_checks import filing_window
from claims.services.review import CALENDAR
from workflows.periods import application_period

# Window codes: a candidate period that raises none of them is open on the date.
_WINDOW_CODES = {eligibility.PERIOD_MISALIGNED, eligibility.APPLICATION_TOO_EARLY, eligibility.APPLICATION_LATE}
# How far back a still-open period may end (the longest window a shipped program allows is a year).
LOOKBACK_MONTHS = 24


def open_periods(registry, *, on: date, program: str | None = None) -> list[dict]:
    """Every (program, period) whose application window contains the date, by the rule version in force then.

    The program's own rules decide, through the same check a filing gets: each month end of the last
    LOOKBACK_MONTHS is a candidate period end, kept when it is aligned to the program's cadence and the
    date is inside its window.
    """
    if program and program not in registry.programs():
        raise NotFound(f"No program {program}.", errors={"program": ["no such program"]})
    found = []
    for code in [program] if program else registry.programs():
        try:
            rule = registry.rule_for(code, on)
        except NoRuleInForce:
            continue
        if rule.application is None:
            continue
        for back in range(LOOKBACK_MONTHS, -1, -1):
            month = add_months(on.replace(day=1), -back)
            end = month.replace(day=stdlib_calendar.monthrange(month.year, month.month)[1])
            if end >= on:
                continue
            reasons = eligibility.check_application(rule, period_end=end, applied_on=on, calendar=CALENDAR)
            period = application_period(rule.application, end, CALENDAR)
            if period is not None and not any(r.code in _WINDOW_CODES for r in reasons):
                found.append({"program": code, "kind": rule.kind, "rule_version": rule.version,
                              "cadence": rule.application.cadence, "period_start": period.start, "period_end": end,
                              **filing_window(rule, end)})
    return found
