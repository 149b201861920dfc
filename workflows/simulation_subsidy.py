"""What-if replay of subsidy and reward applications: priced like workflows.simulation prices claims."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflows.eligibility import RULE_NOT_IN_FORCE, check_application
from workflows.rules import ProgramRule
from workflows.simulation import Side, Usage, year_budget
from workflows.subsidy import (
    FeeFacts,
    InterestFacts,
    SubsidyError,
    SubsidyUsage,
    compute_fee_subsidy,
    compute_interest_subsidy,
    compute_reward,
)


@dataclass(frozen=True)
class SharedUsage:
    """Another subsidy program's approval for the firm: not repriced, but it used the caps all subsidies share."""

    application_id: int
    enterprise_id: int
    budget_year: int
    on: date  # the day history approved it
    fixed_fen: int  # what history granted it, counted on both sides of the replay

    def levels(self) -> list[tuple[str, tuple]]:
        """The firm's caps across every subsidy program: this year's and its lifetime's."""
        return [("firm_year", (self.enterprise_id, self.budget_year)), ("firm_lifetime", (self.enterprise_id,))]


@dataclass(frozen=True)
class ApplicationItem:
    """One subsidy or reward application as history saw it: its facts and what history did with it."""

    application_id: int
    institution_id: int
    enterprise_id: int | None
    kind: str  # interest_subsidy, fee_subsidy or reward
    fee_kind: str
    status: str
    budget_year: int
    on: date
    period_end: date
    applied_on: date
    facts: InterestFacts | FeeFacts | None  # None for a reward
    basis_fen: int = 0
    institution_kind: str | None = None
    rule_version_id: int = 0
    subject_type = "application"

    @property
    def subject_id(self) -> int:
        """The application's id."""
        return self.application_id

    def levels(self) -> list[tuple[str, tuple]]:
        """The cap levels an approval uses up: the institution's (rewards) or the firm's, and the budget."""
        year = self.budget_year
        if self.kind == "reward":
            return [("reward_year", (self.institution_id, year)), ("budget", (year,))]
        firm = self.enterprise_id
        return [("subsidy_program_year", (firm, self.fee_kind, year)), ("firm_year", (firm, year)),
                ("firm_lifetime", (firm,)), ("budget", (year,))]

    def price(self, rule: ProgramRule, usage: Usage) -> Side:
        """This application under the rule, with what the replay has granted so far on this side."""
        year = self.budget_year
        budget = year_budget(rule, usage.bases, year)
        remaining = None if budget is None else max(budget - usage.used("budget", (year,)), 0)
        if self.kind == "reward":
            caps = SubsidyUsage(program_year_fen=usage.used("reward_year", (self.institution_id, year)),
                                program_budget_remaining_fen=remaining)
        else:
            firm = self.enterprise_id
            caps = SubsidyUsage(program_year_fen=usage.used("subsidy_program_year", (firm, self.fee_kind, year)),
                                firm_year_all_subsidies_fen=usage.used("firm_year", (firm, year)),
                                firm_lifetime_all_subsidies_fen=usage.used("firm_lifetime", (firm,)),
                                program_budget_remaining_fen=remaining)
        return self.price_with(rule, caps, usage.bases)

    @staticmethod
    def usage_from(values: list) -> SubsidyUsage:
        """The cap usage an application was priced with, from what usage_values stored."""
        return SubsidyUsage(*values)

    def price_with(self, rule: ProgramRule, caps: SubsidyUsage, bases) -> Side:
        """This application under the rule with the cap usage it saw in a replay (an item's trace, on demand)."""
        loan = None if self.facts is None else self.facts.loan
        facts = self.facts
        reasons = tuple(r.code for r in check_application(
            rule, period_end=self.period_end, applied_on=self.applied_on, loan=loan,
            overdue=isinstance(facts, InterestFacts) and facts.overdue,
            extended=isinstance(facts, InterestFacts) and facts.extended,
            institution_kind=self.institution_kind, calendar=bases.calendar) if r.code != RULE_NOT_IN_FORCE)
        try:
            if self.kind == "interest_subsidy":
                result = compute_interest_subsidy(rule, facts, bases.lpr, caps)
            elif self.kind == "fee_subsidy":
                result = compute_fee_subsidy(rule, facts, caps)
            else:
                result = compute_reward(rule, self.institution_kind, self.basis_fen, caps)
        except (SubsidyError, LookupError) as exc:
            code = getattr(exc, "code", "lpr_missing")
            return Side(0, False, None, (), [{"step": "error", "value": code, "detail": str(exc)}], (code,), caps)
        eligible = not reasons and not result.reasons
        label = f"{self.kind}:{self.fee_kind}" if self.fee_kind else self.kind
        return Side(result.amount_fen if eligible else 0, eligible, result.binding_cap, (label,),
                    lambda: list(result.trace), reasons + tuple(result.reasons), caps)
