"""Risk-pool and guarantee-fund payouts: loss base, ratio with bands, uplifts and ceiling, caps, risk shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from workflows.facts import CapUsage, ClaimFacts, EnterpriseFacts, ListMembership, LoanFacts
from workflows.money import fen_floor, fen_times, format_fen, split_largest_remainder
from workflows.rules import ProgramRule
from workflows.trace import Trace

__all__ = [
    "CapUsage",
    "ClaimFacts",
    "CompensationError",
    "CompensationResult",
    "EnterpriseFacts",
    "ListMembership",
    "LoanFacts",
    "compensation_ratio",
    "compute_compensation",
    "loss_base_fen",
]


class CompensationError(ValueError):
    """The inputs do not allow a payout to be computed (for example a cap whose base is unknown)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CompensationResult:
    """A computed payout with the trace of how it was reached.

    `shares` is what each party bears: for a risk pool only the program's own payout; for a guarantee
    fund every risk-share party, with the program's part after caps. `split` is the uncapped split of
    the loss base (it sums exactly to loss_base_fen); empty for risk pools.
    """

    amount_fen: int
    ratio: Decimal
    loss_base_fen: int
    gross_fen: int
    shares: dict[str, int]
    trace: list[dict]
    binding_cap: str | None = None
    ceiling_bound: bool = False
    split: dict[str, int] = field(default_factory=dict)
    reasons: tuple[str, ...] = field(default=())
    rule_code: str = ""
    rule_version: str = ""


def _dates(loan: LoanFacts, claim: ClaimFacts) -> dict:
    return {"disbursement": loan.disbursed_on, "default": claim.default_on, "claim": claim.claimed_on}


def loss_base_fen(rule: ProgramRule, claim: ClaimFacts, trace: Trace | None = None) -> int:
    """The loss the ratio applies to: unrecovered principal, plus interest up to the day cap if covered."""
    trace = trace or Trace()
    comp = rule.compensation
    if comp is None:
        raise CompensationError("not_a_compensation_program", f"program {rule.code} has no [compensation]")
    loss = claim.outstanding_principal_fen
    trace.amount("principal", claim.outstanding_principal_fen, "outstanding principal at default")
    if comp.loss_base == "principal_and_interest":
        interest = claim.unpaid_interest_fen
        cap = comp.interest_day_cap or 0
        if claim.interest_days > cap:
            # Interest beyond the cap is dropped pro rata by days; the loss base is an amount in its own
            # right, so this is where its rounding happens (half-up, once).
            interest = fen_times(claim.unpaid_interest_fen, Decimal(cap) / Decimal(claim.interest_days))
            note = f"{format_fen(claim.unpaid_interest_fen)} x {cap}/{claim.interest_days} days, half-up to the fen"
        else:
            note = f"{claim.interest_days} days, within the {cap}-day cap"
        trace.amount("interest", interest, note)
        loss += interest
    if claim.recovered_before_claim_fen:
        trace.amount("recovered_before_claim", -claim.recovered_before_claim_fen, "deducted from the loss")
        loss -= claim.recovered_before_claim_fen
    loss = max(loss, 0)
    trace.amount("loss_base", loss, comp.loss_base)
    return loss


def compensation_ratio(rule: ProgramRule, loan: LoanFacts, claim: ClaimFacts, trace: Trace | None = None) -> tuple[Decimal | None, bool]:
    """The ratio for this loan after bands, uplifts and the ceiling; None when no band applies."""
    trace = trace or Trace()
    comp = rule.compensation
    if comp is None:
        raise CompensationError("not_a_compensation_program", f"program {rule.code} has no [compensation]")
    if comp.bands:
        measured = loan.principal_fen if comp.band_by == "principal" else loan.enterprise.revenue_fen
        if measured is None:
            trace.add("base_ratio", None, f"firm revenue unknown: no {comp.band_by} band can be chosen")
            return None, False
        band = next((b for b in comp.bands if b.range.contains(measured)), None)
        if band is None:
            trace.add("base_ratio", None, f"{comp.band_by} {format_fen(measured)} falls in no band: not eligible")
            return None, False
        ratio = band.ratio
        trace.add("base_ratio", ratio, f"{comp.band_by} {format_fen(measured)} in band {band.range.describe()} (fen)")
    else:
        ratio = comp.base_ratio or Decimal(0)
        trace.add("base_ratio", ratio, "flat base ratio")
    dates = _dates(loan, claim)
    for uplift in comp.uplifts:
        applies, notes = uplift.when.evaluate(loan, dates)
        value = uplift.add if comp.combine == "add" else uplift.ratio
        if applies and comp.combine == "add":
            ratio += value
        elif applies:
            ratio = max(ratio, value)
        verb = "+" if comp.combine == "add" else "max with"
        trace.add(
            f"uplift:{uplift.name}",
            ratio,
            {"applies": applies, "combine": f"{verb} {value}", "conditions": notes, "label": uplift.label},
        )
    bound = ratio > comp.ceiling
    if bound:
        ratio = comp.ceiling
    trace.add("ceiling", ratio, {"ceiling": comp.ceiling, "bound": bound})
    return ratio, bound


def _cap_limits(rule: ProgramRule, usage: CapUsage) -> list[tuple[str, int, int, str]]:
    """Each cap as (name, limit, already used, note); the remaining room is limit - used."""
    caps = rule.caps
    limits: list[tuple[str, int, int, str]] = []
    if caps.per_loan_fen is not None:
        limits.append(("per_loan", caps.per_loan_fen, 0, "per loan"))
    if caps.per_enterprise_year_fen is not None:
        limits.append(("per_enterprise_year", caps.per_enterprise_year_fen, usage.enterprise_year_fen, "enterprise, this year"))
    if caps.per_enterprise_lifetime_fen is not None:
        limits.append(
            ("per_enterprise_lifetime", caps.per_enterprise_lifetime_fen, usage.enterprise_lifetime_fen, "enterprise, all years")
        )
    if caps.per_institution_year_fen is not None:
        limits.append(("per_institution_year", caps.per_institution_year_fen, usage.institution_year_fen, "institution, this year"))
    for name, share, base, what in (
        ("per_institution_year_share_of_registered", caps.per_institution_year_share_of_registered,
         usage.institution_registered_principal_fen, "registered principal this year"),
        ("per_institution_year_share_of_prior_balance", caps.per_institution_year_share_of_prior_balance,
         usage.institution_prior_year_balance_fen, "prior-year balance"),
    ):
        if share is None:
            continue
        if base is None:
            raise CompensationError("cap_input_missing", f"cap {name} needs the institution's {what}")
        # A limit is never rounded up: flooring keeps the payout provably within it.
        limits.append((name, fen_floor(base, share), usage.institution_year_fen, f"{share} x {what} {format_fen(base)}, floored"))
    if caps.program_budget:
        if usage.program_budget_remaining_fen is None:
            raise CompensationError("cap_input_missing", "the program budget cap needs the remaining budget")
        limits.append(("program_budget", usage.program_budget_remaining_fen, 0, "remaining program budget"))
    return limits


def _split_risk_shares(rule: ProgramRule, loss: int) -> dict[str, int]:
    """Split the loss over the parties so the parts sum exactly to it.

    The program's own part is floored, and the other parties share what is left by largest
    remainder: public money never pays a rounding fen, so the payout stays within loss x share.
    """
    party = next(s for s in rule.risk_shares if s.program)
    own = fen_floor(loss, party.share)
    others = {s.party: s.share for s in rule.risk_shares if not s.program and s.share > 0}
    rest = split_largest_remainder(loss - own, others) if others else {}
    return {s.party: own if s.program else rest.get(s.party, 0) for s in rule.risk_shares}


def compute_compensation(rule: ProgramRule, loan: LoanFacts, claim: ClaimFacts, usage: CapUsage | None = None) -> CompensationResult:
    """Compute the payout on a loss claim under the rule, with every step in the trace."""
    usage = usage or CapUsage()
    comp = rule.compensation
    if comp is None:
        raise CompensationError("not_a_compensation_program", f"program {rule.code} is a {rule.kind}, not a compensation program")
    trace = Trace()
    trace.add("rule", f"{rule.code}@{rule.version}", {"source": rule.source, "sha256": rule.sha256})
    trace.add(
        "inputs",
        None,
        {
            "principal_fen": loan.principal_fen,
            "disbursed_on": loan.disbursed_on,
            "security_type": loan.security_type,
            "unsecured_share": loan.unsecured_share,
            "first_loan": loan.first_loan,
            "policy_tool": loan.policy_tool,
            "revenue_fen": loan.enterprise.revenue_fen,
            "default_on": claim.default_on,
            "outstanding_principal_fen": claim.outstanding_principal_fen,
            "unpaid_interest_fen": claim.unpaid_interest_fen,
            "interest_days": claim.interest_days,
            "recovered_before_claim_fen": claim.recovered_before_claim_fen,
        },
    )
    loss = loss_base_fen(rule, claim, trace)
    ceiling_bound = False
    if rule.risk_shares:
        party = next(s for s in rule.risk_shares if s.program)
        shares = _split_risk_shares(rule, loss)
        ratio = party.share
        gross = shares[party.party]
        trace.add("risk_shares", {k: format_fen(v) for k, v in shares.items()},
                  f"{party.party} floored to the fen; the rest split by largest remainder")
        trace.amount("gross", gross, f"share of {party.party} ({party.share})")
    else:
        found, ceiling_bound = compensation_ratio(rule, loan, claim, trace)
        if found is None:
            trace.amount("amount", 0, "no base ratio applies: nothing payable")
            return CompensationResult(
                amount_fen=0, ratio=Decimal(0), loss_base_fen=loss, gross_fen=0, shares={comp.payer_party: 0},
                trace=trace.as_list(), reasons=("no_band",), rule_code=rule.code, rule_version=rule.version,
            )
        ratio = found
        gross = fen_times(loss, ratio)
        trace.amount("gross", gross, f"{format_fen(loss)} x {ratio}, half-up to the fen (the one rounding point)")
        shares = {}
    split = dict(shares)
    amount = gross
    binding = None
    for name, limit, used, note in _cap_limits(rule, usage):
        room = max(limit - used, 0)
        bound = room < amount
        if bound:
            amount, binding = room, name
        trace.amount(f"cap:{name}", room, {"limit": format_fen(limit), "used": format_fen(used), "bound": bound, "note": note})
    if rule.risk_shares:
        party = next(s for s in rule.risk_shares if s.program)
        shares = {**shares, party.party: amount}
    else:
        shares = {comp.payer_party: amount}
    trace.amount("amount", amount, f"bound by {binding}" if binding else "no cap bound")
    return CompensationResult(
        amount_fen=amount,
        ratio=ratio,
        loss_base_fen=loss,
        gross_fen=gross,
        shares=shares,
        trace=trace.as_list(),
        binding_cap=binding,
        ceiling_bound=ceiling_bound,
        split=split,
        rule_code=rule.code,
        rule_version=rule.version,
    )
