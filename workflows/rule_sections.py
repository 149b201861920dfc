"""Reading each section of a program file into rule objects, recording every problem by key."""

from __future__ import annotations

from decimal import Decimal

from workflows.conditions import DATE_KINDS, Condition, read_condition
from workflows.facts import CLASSIFICATIONS, SECURITY_TYPES
from workflows.flows import PAYMENT_STAGE, REVIEW_STAGE_NAMES, STAGE_NAMES
from workflows.rule_model import (
    BREAKER_ACTIONS,
    BREAKER_METRICS,
    REGISTERED_YEAR_BASES,
    REVIEW_ROLES,
    Breaker,
    Caps,
    ClaimRule,
    EnterpriseRule,
    PrincipalLimit,
    RegistrationRule,
    ReviewStage,
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
