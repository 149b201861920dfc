"""Choosing the band (tier) of a compensation ratio: by principal, firm revenue or unsecured share, with conditions."""

from __future__ import annotations

from workflows.compensation_trace import step as render_step
from workflows.facts import LoanFacts
from workflows.money import format_fen
from workflows.trace import plain


def band_measure(comp, loan: LoanFacts) -> tuple[object, str]:
    """The loan's value of what the bands are by, and how the trace shows it (yuan, or the share as written)."""
    if comp.band_by == "principal":
        return loan.principal_fen, format_fen(loan.principal_fen) + " yuan"
    if comp.band_by == "unsecured_share":
        return loan.unsecured_share, str(loan.unsecured_share)
    revenue = loan.enterprise.revenue_fen
    return revenue, "unknown" if revenue is None else format_fen(revenue) + " yuan"


def matching_band(comp, loan: LoanFacts, dates: dict):
    """The first band (tier) whose range holds the loan's measure and whose condition, if any, it meets."""
    measured, _ = band_measure(comp, loan)
    if measured is None:
        return None
    for band in comp.bands:
        if band.range.contains(measured) and (band.when is None or band.when.check(loan, dates)[0]):
            return band
    return None


def band_entry(comp, loan: LoanFacts, dates: dict, record: list):
    """The band that applies, recording the trace step that says which (or why none does)."""
    measured, shown = band_measure(comp, loan)
    if measured is None:
        record.append((render_step, "base_ratio", None, f"firm revenue unknown: no {comp.band_by} band can be chosen"))
        return None
    band = matching_band(comp, loan, dates)
    if band is None:
        record.append((render_step, "base_ratio", None, f"{comp.band_by} {shown} falls in no band: not eligible"))
        return None
    which = f" ({band.label})" if band.label else ""
    when = "" if band.when is None else "; " + "; ".join(band.when.evaluate(loan, dates)[1])
    record.append((render_step, "base_ratio", plain(band.ratio),
                   f"{comp.band_by} {shown} in band {band.range.describe()}{which}{when}"))
    return band
