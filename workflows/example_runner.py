"""Running a program file's own [[examples]] against its rule: what each computes, and where it differs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

from workflows.compensation import CompensationError, compute_compensation
from workflows.eligibility import EligibilityContext, check_application, check_claim, check_registration
from workflows.examples import Example
from workflows.facts import CapUsage
from workflows.money import format_fen
from workflows.rule_model import ProgramRule
from workflows.subsidy import (
    FeeFacts,
    InterestFacts,
    LprFixing,
    LprTable,
    SubsidyError,
    SubsidyUsage,
    compute_fee_subsidy,
    compute_interest_subsidy,
    compute_reward,
)

# An example that names no usage runs with nothing used yet and bases too large to bind.
_UNBOUNDED_FEN = 10**14


@dataclass
class ExampleOutcome:
    """What one example computed, and each way it differs from what the file expects (empty when it passes)."""

    name: str
    amount_fen: int | None = None
    reasons: list[str] = field(default_factory=list)
    trace: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the example came out as expected."""
        return not self.problems


def run_examples(rule: ProgramRule) -> list[ExampleOutcome]:
    """Every example of the rule, run."""
    return [run_example(rule, example) for example in rule.examples]


def run_example(rule: ProgramRule, example: Example) -> ExampleOutcome:
    """Run one example: eligibility first, then the amount, comparing each with what is expected."""
    outcome = ExampleOutcome(example.name)
    try:
        reasons, result = _run(rule, example)
    except (CompensationError, SubsidyError, ValueError, LookupError) as exc:
        outcome.problems.append(f"could not be computed: {exc}")
        return outcome
    outcome.reasons = [f"{r.code}: {r.message}" for r in reasons]
    expect = example.expect
    codes = sorted({r.code for r in reasons})
    if expect.refused is not None and codes != sorted(set(expect.refused)):
        outcome.problems.append(f"expected refusal reasons {sorted(set(expect.refused)) or 'none'}, got {codes or 'none'}")
    elif expect.refused is None and codes:
        outcome.problems.append(f"refused ({'; '.join(outcome.reasons)}), expected amount "
                                f"{format_fen(expect.amount_fen or 0)}")
    if result is not None:
        outcome.amount_fen = result.amount_fen
        outcome.trace = list(result.trace)
        _compare(expect, result, outcome)
    elif expect.amount_fen is not None and not codes:
        outcome.problems.append("no amount is computed for this use")
    text = json.dumps(outcome.trace, ensure_ascii=False) + "\n" + "\n".join(outcome.reasons)
    for wanted in expect.trace:
        if wanted not in text:
            outcome.problems.append(f"trace does not say {wanted!r}")
    return outcome


def _compare(expect, result, outcome: ExampleOutcome) -> None:
    if expect.amount_fen is not None and result.amount_fen != expect.amount_fen:
        outcome.problems.append(f"expected amount {format_fen(expect.amount_fen)}, computed {format_fen(result.amount_fen)}")
    ratio = getattr(result, "ratio", None)
    if expect.ratio is not None and ratio != expect.ratio:
        outcome.problems.append(f"expected ratio {expect.ratio}, computed {ratio}")
    if expect.shares:
        split = getattr(result, "split", None) or getattr(result, "shares", {})
        if split != expect.shares:
            shown = {k: format_fen(v) for k, v in split.items()}
            outcome.problems.append(f"expected shares { {k: format_fen(v) for k, v in expect.shares.items()} }, "
                                    f"computed {shown}")
    if expect.binding_cap is not None and result.binding_cap != expect.binding_cap:
        outcome.problems.append(f"expected binding cap {expect.binding_cap}, got {result.binding_cap}")


def _run(rule: ProgramRule, example: Example) -> tuple[list, object]:
    if example.use == "registration":
        data = example.registration
        context = EligibilityContext(registered_on=data.get("registered_on", example.loan.disbursed_on),
                                     institution_id=data.get("institution", "bank"),
                                     firm_banks_this_year=frozenset(data.get("firm_banks", ())),
                                     other_coverage=tuple(data.get("other_coverage", ())))
        return check_registration(rule, example.loan, context), None
    if example.use == "claim":
        reasons = check_claim(rule, example.loan, example.claim)
        if reasons:
            return reasons, None
        return [], compute_compensation(rule, example.loan, example.claim, _cap_usage(rule, example))
    data = example.subsidy
    if example.use == "reward":
        return [], compute_reward(rule, data.get("institution_kind", "bank"), data.get("basis", 0), _subsidy_usage(rule, example))
    reasons = []
    if "period_end" in data and "applied_on" in data:
        reasons = check_application(rule, period_end=data["period_end"], applied_on=data["applied_on"], loan=example.loan,
                                    overdue=data.get("overdue", False), extended=data.get("extended", False))
    if reasons:
        return reasons, None
    if example.use == "fee":
        facts = FeeFacts(example.loan, data.get("kind", "guarantee_fee"), data.get("paid", 0), data.get("applied_on"))
        return [], compute_fee_subsidy(rule, facts, _subsidy_usage(rule, example))
    facts = InterestFacts(loan=example.loan, loan_rate=data.get("loan_rate", Decimal(0)),
                          period_start=data.get("period_start"), period_end=data.get("period_end"),
                          interest_paid_fen=data.get("interest_paid", 0),
                          outstanding_principal_fen=data.get("outstanding_principal"),
                          overdue=data.get("overdue", False), extended=data.get("extended", False),
                          applied_on=data.get("applied_on"))
    if not example.lpr:
        raise ValueError("an interest example needs its own [[examples.lpr]] fixings")
    lpr = LprTable(LprFixing(on, one, five) for on, one, five in example.lpr)
    return [], compute_interest_subsidy(rule, facts, lpr, _subsidy_usage(rule, example))


def _budget(rule: ProgramRule, year: int, usage: dict) -> int | None:
    if not rule.caps.program_budget:
        return None
    if "budget_remaining" in usage:
        return usage["budget_remaining"]
    budget = rule.annual_budget_fen(year)
    return _UNBOUNDED_FEN if budget is None else budget


def _cap_usage(rule: ProgramRule, example: Example) -> CapUsage:
    usage = example.usage
    return CapUsage(
        enterprise_year_fen=usage.get("enterprise_year", 0),
        enterprise_lifetime_fen=usage.get("enterprise_lifetime", 0),
        institution_year_fen=usage.get("institution_year", 0),
        institution_registered_principal_fen=usage.get("registered_principal", _UNBOUNDED_FEN),
        institution_prior_year_balance_fen=usage.get("prior_year_balance", _UNBOUNDED_FEN),
        institution_prior_year_balance_on=usage.get("prior_year_balance_on"),
        institution_cohort_fen=usage.get("registration_year_cohort", 0),
        program_budget_remaining_fen=_budget(rule, (example.claim.claimed_on or example.claim.default_on).year, usage),
    )


def _subsidy_usage(rule: ProgramRule, example: Example) -> SubsidyUsage:
    usage = example.usage
    on = example.subsidy.get("applied_on") or example.subsidy.get("period_end")
    year = on.year if on is not None else rule.effective_from.year
    return SubsidyUsage(program_year_fen=usage.get("program_year", 0), firm_year_all_subsidies_fen=usage.get("firm_year", 0),
                        firm_lifetime_all_subsidies_fen=usage.get("firm_lifetime", 0),
                        program_budget_remaining_fen=_budget(rule, year, usage))
