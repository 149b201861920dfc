"""Reading the subsidy, fee, reward and application sections of a program file into rule objects."""

from __future__ import annotations

from decimal import Decimal

from workflows.conditions import Condition, read_condition
from workflows.rule_model import (
    APPLICATION_CADENCES,
    DAY_COUNTS,
    FEE_KINDS,
    INSTITUTION_KINDS,
    INTEREST_BASES,
    ApplicationWindow,
    DatedWindow,
    FeeKindRule,
    FeeRule,
    InterestRule,
    RateTier,
    RewardRate,
    RewardRule,
    SubsidyCaps,
)
from workflows.rule_reader import Reader
from workflows.rule_sections import read_window


def read_tiers(reader: Reader, name: str, *, value_key: str) -> tuple[RateTier, ...]:
    tiers = []
    for item in reader.tables(name):
        when_reader = item.table("when", required=True)
        value = item.ratio(value_key, required=True)
        tiers.append(
            RateTier(
                name=item.string("name", required=True) or "",
                label=item.string("label"),
                when=read_condition(when_reader) if when_reader is not None else Condition(),
                **{value_key: value},
            )
        )
        item.finish()
    return tuple(tiers)


def read_interest(reader: Reader | None) -> InterestRule | None:
    if reader is None:
        return None
    basis = reader.choice("basis", INTEREST_BASES, required=True)
    value_key = "rate" if basis == "fixed_rate" else "share"
    rule = InterestRule(
        basis=basis or "interest_paid",
        share=reader.ratio("share"),
        rate=reader.ratio("rate"),
        borrower_pays_up_to_lpr_minus_bp=reader.integer("borrower_pays_up_to_lpr_minus_bp", minimum=0),
        rate_ceiling_lpr_plus_bp=reader.integer("rate_ceiling_lpr_plus_bp", minimum=0),
        lpr_tenor=reader.choice("lpr_tenor", ("1y", "5y"), default="1y") or "1y",
        lpr_fixing=reader.choice("lpr_fixing", ("disbursement", "daily"), default="disbursement") or "disbursement",
        day_count=reader.choice("day_count", DAY_COUNTS, default="actual/actual") or "actual/actual",
        current_loans_only=bool(reader.boolean("current_loans_only", default=True)),
        annual_cap_fen=reader.amount_fen("annual_cap"),
        tiers=read_tiers(reader, "tiers", value_key=value_key),
    )
    needs = {
        "interest_paid": "share",
        "fixed_rate": "rate",
        "lpr_share": "share",
        "lpr_excess": "borrower_pays_up_to_lpr_minus_bp",
    }.get(rule.basis)
    for key in ("share", "rate", "borrower_pays_up_to_lpr_minus_bp"):
        if key == needs and getattr(rule, key) is None:
            reader.error(key, f"is required when basis = {rule.basis!r}")
        elif key != needs and reader.has(key):
            reader.error(key, f"does not apply when basis = {rule.basis!r}")
    if rule.basis == "lpr_excess" and rule.tiers:
        reader.error("tiers", "tiers do not apply when basis = 'lpr_excess'")
    reader.finish()
    return rule


def read_fee(reader: Reader | None) -> FeeRule | None:
    if reader is None:
        return None
    kinds = []
    for item in reader.tables("kinds", required=True):
        kinds.append(
            FeeKindRule(
                kind=item.choice("kind", FEE_KINDS, required=True) or "",
                share=item.ratio("share", required=True) or Decimal(0),
                annual_cap_fen=item.amount_fen("annual_cap"),
                tiers=read_tiers(item, "tiers", value_key="share"),
                label=item.string("label"),
            )
        )
        item.finish()
    names = [k.kind for k in kinds]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        reader.error("kinds", f"fee kind {duplicate!r} is listed twice")
    reader.finish()
    return FeeRule(tuple(kinds))


def read_subsidy_caps(reader: Reader | None) -> SubsidyCaps:
    if reader is None:
        return SubsidyCaps()
    caps = SubsidyCaps(
        per_firm_year_fen=reader.amount_fen("per_firm_year"),
        per_firm_lifetime_fen=reader.amount_fen("per_firm_lifetime"),
    )
    if caps.per_firm_year_fen is not None and caps.per_firm_lifetime_fen is not None:
        if caps.per_firm_lifetime_fen < caps.per_firm_year_fen:
            reader.error("per_firm_lifetime", "is below per_firm_year")
    reader.finish()
    return caps


def read_reward(reader: Reader | None) -> RewardRule | None:
    if reader is None:
        return None
    rates = []
    for item in reader.tables("rates", required=True):
        rates.append(
            RewardRate(
                institution_kind=item.choice("institution_kind", INSTITUTION_KINDS, required=True) or "",
                basis=item.choice("basis", ("loans_issued", "amount_underwritten", "amount_guaranteed"), required=True) or "",
                rate=item.ratio("rate", required=True) or Decimal(0),
                label=item.string("label"),
            )
        )
        item.finish()
    kinds = [r.institution_kind for r in rates]
    for duplicate in sorted({k for k in kinds if kinds.count(k) > 1}):
        reader.error("rates", f"institution kind {duplicate!r} is listed twice")
    rule = RewardRule(tuple(rates), reader.amount_fen("per_institution_year_cap"))
    reader.finish()
    return rule


def read_application(reader: Reader | None) -> ApplicationWindow | None:
    if reader is None:
        return None
    dated = [w for w in (_read_dated_window(item) for item in reader.tables("windows")) if w is not None]
    if reader.has("windows"):
        for key in ("cadence", "opens_days_after_period_end", "window"):
            if reader.has(key):
                reader.error(key, "does not apply when explicit [[application.windows]] are given")
        reader.finish()
        ends = [w.period_end for w in dated]
        for duplicate in sorted({e for e in ends if ends.count(e) > 1}):
            reader.error("windows", f"two windows for the period ending {duplicate.isoformat()}")
        if not dated:
            reader.error("windows", "at least one window is required")
            return None
        return ApplicationWindow(cadence="windows", opens_days_after_period_end=0, window=None, windows=tuple(dated))
    cadence = reader.choice("cadence", APPLICATION_CADENCES, required=True)
    opens = reader.integer("opens_days_after_period_end", default=0)
    window = read_window(reader.table("window", required=True))
    reader.finish()
    if cadence is None or window is None:
        return None
    return ApplicationWindow(cadence=cadence, opens_days_after_period_end=opens or 0, window=window)


def _read_dated_window(item: Reader) -> DatedWindow | None:
    window = DatedWindow(
        period_start=item.date_value("period_start", required=True),
        period_end=item.date_value("period_end", required=True),
        opens_on=item.date_value("opens_on", required=True),
        closes_on=item.date_value("closes_on", required=True),
        label=item.string("label"),
    )
    item.finish()
    if None in (window.period_start, window.period_end, window.opens_on, window.closes_on):
        return None
    if window.period_end < window.period_start:
        item.error("period_end", "is before period_start")
        return None
    if window.closes_on < window.opens_on:
        item.error("closes_on", "is before opens_on")
        return None
    if window.opens_on <= window.period_end:
        item.error("opens_on", "applications open after the period they are for ends")
        return None
    return window
