"""What the compensation engine works out once per rule version (its plan), and the split of a loss over risk shares."""

from __future__ import annotations

from decimal import Decimal

from workflows.compensation_trace import rule as render_rule
from workflows.compensation_trace import step as render_step
from workflows.money import fen_floor, format_fen, split_largest_remainder
from workflows.rule_model import ProgramRule
from workflows.trace import plain


class Plan:
    """What the engine needs from one rule version, worked out once: the constant trace texts and the caps."""

    def __init__(self, rule: ProgramRule):
        comp, caps = rule.compensation, rule.caps
        self.rule_entry = (render_rule, f"{rule.code}@{rule.version}", plain(rule.source), plain(rule.sha256))
        add = comp.combine == "add"
        verb = "+" if add else "max with"
        self.add = add
        self.uplifts = tuple((f"uplift:{u.name}", u.when, u.add if add else u.ratio,
                              f"{verb} {u.add if add else u.ratio}", plain(u.label)) for u in comp.uplifts)
        flat = None if comp.bands else (comp.base_ratio or Decimal(0))
        self.flat = flat
        self.flat_entry = None if flat is None else (render_step, "base_ratio", plain(flat), "flat base ratio")
        self.ceiling = comp.ceiling
        self.ceiling_text = plain(comp.ceiling)
        # Caps in the order they are checked and traced: (name, step, limit, usage field of what is
        # used, note) for fixed limits, (name, step, share, usage field of the base, what, note) for shares.
        fixed = []
        if caps.per_loan_fen is not None:
            fixed.append(("per_loan", caps.per_loan_fen, None, "per loan"))
        if caps.per_enterprise_year_fen is not None:
            fixed.append(("per_enterprise_year", caps.per_enterprise_year_fen, "enterprise_year_fen", "enterprise, this year"))
        if caps.per_enterprise_lifetime_fen is not None:
            fixed.append(("per_enterprise_lifetime", caps.per_enterprise_lifetime_fen, "enterprise_lifetime_fen",
                          "enterprise, all years"))
        if caps.per_institution_year_fen is not None:
            fixed.append(("per_institution_year", caps.per_institution_year_fen, "institution_year_fen", "institution, this year"))
        self.fixed_caps = tuple((name, f"cap:{name}", limit, used, note, format_fen(limit)) for name, limit, used, note in fixed)
        shares = []
        by_registration = caps.share_of_registered_year == "registration_year"
        for name, share, base, what, used in (
            ("per_institution_year_share_of_registered", caps.per_institution_year_share_of_registered,
             "institution_registered_principal_fen",
             "principal registered in the loan's registration year" if by_registration
             else "registered principal this year",
             "institution_cohort_fen" if by_registration else "institution_year_fen"),
            ("per_institution_year_share_of_prior_balance", caps.per_institution_year_share_of_prior_balance,
             "institution_prior_year_balance_fen", "balance outstanding on 1 January (loans repaid before then not counted)",
             "institution_year_fen"),
        ):
            if share is not None:
                shares.append((name, f"cap:{name}", share, base, what, f"{share} x {what} ", used))
        self.share_caps = tuple(shares)
        self.program_budget = bool(caps.program_budget)


def plan_of(rule: ProgramRule) -> Plan:
    # A rule version is immutable, so its plan is kept on it (in its __dict__, as functools.cached_property does).
    plan = rule.__dict__.get("_compensation_plan")
    if plan is None:
        plan = Plan(rule)
        rule.__dict__["_compensation_plan"] = plan
    return plan


def split_risk_shares(rule: ProgramRule, loss: int) -> dict[str, int]:
    """Split the loss over the parties so the parts sum exactly to it, by the program's split policy.

    "program_floored": the program's own part is floored and the other parties share what is left by
    largest remainder, so public money never pays a rounding fen. "largest_remainder": every party,
    the program's included, by largest remainder over all the shares.
    """
    if rule.compensation.split_policy == "largest_remainder":
        return split_largest_remainder(loss, {s.party: s.share for s in rule.risk_shares})
    party = next(s for s in rule.risk_shares if s.program)
    own = fen_floor(loss, party.share)
    others = {s.party: s.share for s in rule.risk_shares if not s.program and s.share > 0}
    rest = split_largest_remainder(loss - own, others) if others else {}
    return {s.party: own if s.program else rest.get(s.party, 0) for s in rule.risk_shares}


SPLIT_NOTES = {
    "program_floored": "{party} floored to the fen; the rest split by largest remainder",
    "largest_remainder": "every party by largest remainder over all shares (split_policy = largest_remainder)",
}
