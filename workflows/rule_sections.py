"""Reading each section of a program file into rule objects, recording every problem by key."""

from __future__ import annotations

from decimal import Decimal

from workflows.conditions import DATE_KINDS, Condition, read_condition, read_range
from workflows.facts import CLASSIFICATIONS, SECURITY_TYPES
from workflows.flows import PAYMENT_STAGE, REVIEW_STAGE_NAMES, STAGE_NAMES
from workflows.rule_model import (
    BREAKER_ACTIONS,
    BREAKER_METRICS,
    DAY_COUNTS,
    FEE_KINDS,
    INSTITUTION_KINDS,
    INTEREST_BASES,
    REGISTERED_YEAR_BASES,
    REVIEW_ROLES,
    SETTLEMENT_PERIODS,
    ApplicationWindow,
    Band,
    Breaker,
    Caps,
    ClaimRule,
    CompensationRule,
    EnterpriseRule,
    FeeKindRule,
    FeeRule,
    InterestRule,
    PrincipalLimit,
    RateTier,
    RegistrationRule,
    ReviewStage,
    RewardRate,
    RewardRule,
    RiskShare,
    SubsidyCaps,
    Uplift,
    Window,
)
from workflows.rule_reader import Reader


def read_window(reader: Reader | None) -> Window | None:
    if reader is None:
        return None
    days = reader.integer("days")
    months = reader.integer("months")
    working_days = reader.integer("working_days")
    reader.finish()
    given = [v for v in (days, months, working_days) if v is not None]
    if len(given) != 1:
        reader.error("days", "a window needs exactly one of days, months, working_days")
        return None
    return Window(days=days, months=months, working_days=working_days)


def read_budget(reader: Reader | None) -> tuple[dict[int, int], int | None]:
    if reader is None:
        return {}, None
    by_year: dict[int, int] = {}
    annual = reader.table("annual")
    if annual is not None:
        for year_text in list(annual.data):
            fen = annual.amount_fen(year_text)
            if not (year_text.isdigit() and len(year_text) == 4):
                annual.error(year_text, "fiscal year keys must be four-digit years")
            elif fen is not None:
                by_year[int(year_text)] = fen
        annual.finish()
    default = reader.amount_fen("default_annual")
    reader.finish()
    return by_year, default


def read_review(reader: Reader | None) -> tuple[tuple[ReviewStage, ...], tuple[str, ...] | None]:
    """The review stages in order (one to three review stages, then payment) and who must differ between them."""
    if reader is None:
        return (), None
    stages = []
    for stage in reader.tables("stages", required=True):
        stages.append(
            ReviewStage(
                name=stage.choice("name", STAGE_NAMES, required=True) or "",
                role=stage.choice("role", REVIEW_ROLES, required=True) or "",
                sla_working_days=stage.integer("sla_working_days", required=True, minimum=1) or 0,
                label=stage.string("label"),
            )
        )
        stage.finish()
    names = [s.name for s in stages]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        reader.error("stages", f"stage name {duplicate!r} is used twice")
    if reader.has("stages") and not stages:
        reader.error("stages", "at least one review stage is required")
    known = [n for n in names if n in STAGE_NAMES]
    review = [n for n in known if n != PAYMENT_STAGE]
    if known and (review != list(REVIEW_STAGE_NAMES[:len(review)])
                  or (PAYMENT_STAGE in known and known[-1] != PAYMENT_STAGE)):
        reader.error("stages", "stages run first_review[, second_review[, third_review]][, payment], "
                               f"in that order; found {', '.join(names)}")
    # Separation of duties: by default every stage is a different person; a program may list fewer or none.
    separation = reader.strings("separation_of_duties", choices=STAGE_NAMES) if reader.has(
        "separation_of_duties") else None
    for name in separation or ():
        if names and name not in names:
            reader.error("separation_of_duties", f"names stage {name!r}, which this program does not have")
    reader.finish()
    return tuple(stages), (tuple(separation) if separation is not None else None)


def read_breaker(reader: Reader) -> Breaker:
    breaker = Breaker(
        metric=reader.choice("metric", BREAKER_METRICS, required=True) or "",
        threshold=reader.ratio("threshold", required=True) or Decimal(0),
        action=reader.choice("action", BREAKER_ACTIONS, required=True) or "",
        label=reader.string("label"),
    )
    reader.finish()
    return breaker


def read_registration(reader: Reader | None) -> RegistrationRule:
    if reader is None:
        return RegistrationRule()
    rule = RegistrationRule(
        window=read_window(reader.table("window")),
        min_principal_fen=reader.amount_fen("min_principal"),
        max_principal_fen=reader.amount_fen("max_principal"),
        max_term_months=reader.integer("max_term_months", minimum=1),
        security_types=reader.strings("security_types", choices=SECURITY_TYPES),
        one_bank_per_firm_per_year=bool(reader.boolean("one_bank_per_firm_per_year", default=False)),
        exclude_double_coverage=bool(reader.boolean("exclude_double_coverage", default=False)),
        principal_limits=tuple(read_principal_limit(item) for item in reader.tables("principal_limits")),
    )
    if rule.min_principal_fen is not None and rule.max_principal_fen is not None and rule.min_principal_fen > rule.max_principal_fen:
        reader.error("max_principal", "is below min_principal")
    reader.finish()
    return rule


def read_principal_limit(reader: Reader) -> PrincipalLimit:
    when_reader = reader.table("when", required=True)
    limit = PrincipalLimit(
        name=reader.string("name", required=True) or "",
        when=read_condition(when_reader) if when_reader is not None else Condition(),
        max_principal_fen=reader.amount_fen("max_principal", required=True) or 0,
    )
    reader.finish()
    return limit


def read_enterprise(reader: Reader | None) -> EnterpriseRule:
    if reader is None:
        return EnterpriseRule()
    when_reader = reader.table("when")
    rule = EnterpriseRule(
        lists_any=reader.strings("lists_any") or (),
        list_on=reader.choice("list_on", DATE_KINDS, default="disbursement") or "disbursement",
        max_revenue_fen=reader.amount_fen("max_revenue"),
        excluded_industries=reader.strings("excluded_industries") or (),
        when=read_condition(when_reader) if when_reader is not None else None,
    )
    reader.finish()
    return rule


def read_claim(reader: Reader | None) -> ClaimRule | None:
    if reader is None:
        return None
    rule = ClaimRule(
        trigger_days_overdue=reader.integer("trigger_days_overdue", minimum=1),
        trigger_classifications=reader.strings("trigger_classifications", choices=CLASSIFICATIONS) or (),
        trigger_lawsuit=bool(reader.boolean("trigger_lawsuit", default=False)),
        window=read_window(reader.table("window")),
    )
    if rule.trigger_days_overdue is None and not rule.trigger_classifications and not rule.trigger_lawsuit:
        reader.error("trigger_days_overdue", "a claim needs at least one trigger (days overdue, classification or lawsuit)")
    reader.finish()
    return rule


def read_compensation(reader: Reader | None) -> CompensationRule | None:
    if reader is None:
        return None
    loss_base = reader.choice("loss_base", ("principal", "principal_and_interest"), default="principal")
    interest_day_cap = reader.integer("interest_day_cap", minimum=1)
    if loss_base == "principal_and_interest" and interest_day_cap is None:
        reader.error("interest_day_cap", "is required when loss_base includes interest")
    if loss_base == "principal" and interest_day_cap is not None:
        reader.error("interest_day_cap", "only applies when loss_base is principal_and_interest")
    base_ratio = reader.ratio("base_ratio")
    band_by = reader.choice("band_by", ("principal", "revenue"))
    bands = []
    for band in reader.tables("bands"):
        ratio = band.ratio("ratio", required=True)
        edges = {k: band.raw(k) for k in ("at_least", "more_than", "at_most", "less_than") if band.has(k)}
        span = read_range(Reader(edges, band.prefix, band.sink), amounts=True)
        band.finish()
        if ratio is not None and span is not None:
            bands.append(Band(span, ratio))
    if bands and band_by is None:
        reader.error("band_by", "is required when bands are given (principal or revenue)")
    if band_by is not None and not reader.has("bands"):
        reader.error("bands", "band_by is set but no bands are given")
    if bands and base_ratio is not None:
        reader.error("base_ratio", "give either base_ratio or bands, not both")
    for i, a in enumerate(bands):
        for j in range(i + 1, len(bands)):
            if a.range.overlaps(bands[j].range):
                reader.error(f"bands[{j}]", f"overlaps bands[{i}] {a.range.describe()}")
    combine = reader.choice("combine", ("add", "max"), default="add") or "add"
    uplifts = []
    for item in reader.tables("uplifts"):
        when_reader = item.table("when", required=True)
        uplift = Uplift(
            name=item.string("name", required=True) or "",
            label=item.string("label"),
            when=read_condition(when_reader) if when_reader is not None else Condition(),
            add=item.ratio("add"),
            ratio=item.ratio("ratio"),
        )
        if combine == "add" and (not item.has("add") or item.has("ratio")):
            item.error("add", "uplifts of a program with combine = \"add\" need `add` (points) and no `ratio`")
        if combine == "max" and (not item.has("ratio") or item.has("add")):
            item.error("ratio", "uplifts of a program with combine = \"max\" need `ratio` and no `add`")
        item.finish()
        uplifts.append(uplift)
    ceiling = reader.ratio("ceiling", required=True)
    payer_party = reader.string("payer_party", default="program") or "program"
    reader.finish()
    if ceiling is not None:
        floor_ratios = [("base_ratio", base_ratio)] + [(f"bands[{i}].ratio", b.ratio) for i, b in enumerate(bands)]
        for key, ratio in floor_ratios:
            if ratio is not None and ceiling < ratio:
                reader.error("ceiling", f"{ceiling} is below {key} {ratio}")
    return CompensationRule(
        loss_base=loss_base or "principal",
        interest_day_cap=interest_day_cap,
        base_ratio=base_ratio,
        band_by=band_by,
        bands=tuple(bands),
        combine=combine,
        uplifts=tuple(uplifts),
        ceiling=ceiling if ceiling is not None else Decimal(0),
        payer_party=payer_party,
    )


def read_risk_shares(root: Reader, compensation: CompensationRule | None) -> tuple[RiskShare, ...]:
    items = root.tables("risk_shares")
    if not items:
        written = root.data.get("compensation", {})
        if compensation is not None and not ({"base_ratio", "bands"} & set(written)):
            root.error("compensation.base_ratio", "a program needs base_ratio, bands or risk_shares")
        return ()
    shares = []
    for item in items:
        shares.append(
            RiskShare(
                party=item.string("party", required=True) or "",
                share=item.ratio("share", required=True) or Decimal(0),
                program=bool(item.boolean("program", default=False)),
                label=item.string("label"),
            )
        )
        item.finish()
    total = sum((s.share for s in shares), Decimal(0))
    if total != 1:
        root.error("risk_shares", f"shares must sum to 1, they sum to {total}")
    if sum(1 for s in shares if s.program) != 1:
        root.error("risk_shares", "exactly one party must be marked program = true (the party this program pays)")
    parties = [s.party for s in shares]
    for duplicate in sorted({p for p in parties if parties.count(p) > 1}):
        root.error("risk_shares", f"party {duplicate!r} is listed twice")
    if compensation is not None and (compensation.base_ratio is not None or compensation.bands or compensation.uplifts):
        root.error("compensation", "with risk_shares the program's ratio is its party's share: drop base_ratio, bands and uplifts")
    program_share = next((s.share for s in shares if s.program), None)
    ceiling_written = "ceiling" in root.data.get("compensation", {})
    if compensation is not None and program_share is not None and ceiling_written and compensation.ceiling < program_share:
        root.error("compensation.ceiling", f"{compensation.ceiling} is below the program's risk share {program_share}")
    return tuple(shares)


def read_caps(reader: Reader | None, *, has_budget: bool) -> Caps:
    if reader is None:
        return Caps(program_budget=has_budget)
    caps = Caps(
        per_loan_fen=reader.amount_fen("per_loan"),
        per_enterprise_year_fen=reader.amount_fen("per_enterprise_year"),
        per_enterprise_lifetime_fen=reader.amount_fen("per_enterprise_lifetime"),
        per_institution_year_fen=reader.amount_fen("per_institution_year"),
        per_institution_year_share_of_registered=reader.ratio("per_institution_year_share_of_registered"),
        per_institution_year_share_of_prior_balance=reader.ratio("per_institution_year_share_of_prior_balance"),
        share_of_registered_year=reader.choice("share_of_registered_year", REGISTERED_YEAR_BASES) or "claim_year",
        program_budget=bool(reader.boolean("program_budget", default=has_budget)),
    )
    if reader.has("share_of_registered_year") and caps.per_institution_year_share_of_registered is None:
        reader.error("share_of_registered_year", "is set but the file has no per_institution_year_share_of_registered")
    if caps.program_budget and not has_budget:
        reader.error("program_budget", "is true but the file has no [budget]")
    if caps.per_enterprise_year_fen is not None and caps.per_enterprise_lifetime_fen is not None:
        if caps.per_enterprise_lifetime_fen < caps.per_enterprise_year_fen:
            reader.error("per_enterprise_lifetime", "is below per_enterprise_year")
    reader.finish()
    return caps


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
    cadence = reader.choice("cadence", SETTLEMENT_PERIODS, required=True)
    opens = reader.integer("opens_days_after_period_end", default=0)
    window = read_window(reader.table("window", required=True))
    reader.finish()
    if cadence is None or window is None:
        return None
    return ApplicationWindow(cadence=cadence, opens_days_after_period_end=opens or 0, window=window)
