"""Risk-pool and guarantee-fund payouts: loss base, ratio with bands, uplifts and ceiling, caps, risk shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from workflows.facts import CapUsage, ClaimFacts, EnterpriseFacts, ListMembership, LoanFacts
from workflows.compensation_trace import amount as render_amount
from workflows.compensation_trace import cap as render_cap
from workflows.compensation_trace import ceiling as render_ceiling
from workflows.compensation_trace import final as render_final
from workflows.compensation_trace import gross as render_gross
from workflows.compensation_trace import inputs as render_inputs
from workflows.compensation_trace import render
from workflows.compensation_trace import step as render_step
from workflows.compensation_trace import uplift as render_uplift
from workflows.compensation_bands import band_entry
from workflows.compensation_plan import SPLIT_NOTES, Plan, plan_of, split_risk_shares
from workflows.money import fen_floor, fen_times, format_fen
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


@dataclass(frozen=True, init=False)
class CompensationResult:
    """A computed payout with the trace of how it was reached.

    `shares` is what each party bears: for a risk pool only the program's own payout; for a guarantee
    fund every risk-share party, with the program's part after caps. `split` is the uncapped split of
    the loss base (it sums exactly to loss_base_fen); empty for risk pools. `record` holds every step
    with the values it was computed from; `trace` is those steps as plain data, written out on first read.
    """

    amount_fen: int
    ratio: Decimal
    loss_base_fen: int
    gross_fen: int
    shares: dict[str, int]
    record: list[tuple] = field(repr=False)
    binding_cap: str | None = None
    ceiling_bound: bool = False
    split: dict[str, int] = field(default_factory=dict)
    reasons: tuple[str, ...] = field(default=())
    rule_code: str = ""
    rule_version: str = ""

    def __init__(self, amount_fen: int, ratio: Decimal, loss_base_fen: int, gross_fen: int, shares: dict[str, int],
                 record: list[tuple], binding_cap: str | None = None, ceiling_bound: bool = False,
                 split: dict[str, int] | None = None, reasons: tuple[str, ...] = (), rule_code: str = "",
                 rule_version: str = "") -> None:
        # Written out by hand: the generated __init__ of a frozen dataclass sets each field through
        # object.__setattr__, which was a fifth of the engine's time per claim.
        self.__dict__.update(amount_fen=amount_fen, ratio=ratio, loss_base_fen=loss_base_fen, gross_fen=gross_fen,
                             shares=shares, record=record, binding_cap=binding_cap, ceiling_bound=ceiling_bound,
                             split={} if split is None else split, reasons=reasons, rule_code=rule_code,
                             rule_version=rule_version)

    @property
    def trace(self) -> list[dict]:
        """Every step as a plain {step, value, detail[, fen]} dict, JSON-serialisable (written out once)."""
        trace = self.__dict__.get("_trace")
        if trace is None:
            # setdefault keeps the first of two racing threads' (equal) lists, so every reader gets the same one.
            trace = self.__dict__.setdefault("_trace", render(self.record))
        return trace


def _fen(*values) -> None:
    # An amount the trace will show must be an int; raise now, as formatting it at once would have,
    # rather than when the trace is read.
    for value in values:
        if type(value) is not int:
            format_fen(value)


def _dates(loan: LoanFacts, claim: ClaimFacts) -> dict:
    return {"disbursement": loan.disbursed_on, "default": claim.default_on, "claim": claim.claimed_on}


def _no_compensation(rule: ProgramRule) -> CompensationError:
    return CompensationError("not_a_compensation_program", f"program {rule.code} has no [compensation]")


def loss_base_fen(rule: ProgramRule, claim: ClaimFacts, trace: Trace | None = None) -> int:
    """The loss the ratio applies to: unrecovered principal, plus interest up to the day cap if covered."""
    if rule.compensation is None:
        raise _no_compensation(rule)
    record: list[tuple] = []
    loss = _loss_base(rule.compensation, claim, record)
    if trace is not None:
        trace.steps.extend(render(record))
    return loss


def _loss_base(comp, claim: ClaimFacts, record: list) -> int:
    loss = claim.outstanding_principal_fen
    if type(loss) is not int:
        _fen(loss)
    record.append((render_amount, "principal", loss, "outstanding principal at default"))
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
        _fen(interest)
        record.append((render_amount, "interest", interest, note))
        loss += interest
    recovered = claim.recovered_before_claim_fen
    if recovered:
        if type(recovered) is not int:
            _fen(-recovered)
        record.append((render_amount, "recovered_before_claim", -recovered, "deducted from the loss"))
        loss -= recovered
    loss = max(loss, 0)
    if type(loss) is not int:
        _fen(loss)
    record.append((render_amount, "loss_base", loss, comp.loss_base))
    return loss


def compensation_ratio(rule: ProgramRule, loan: LoanFacts, claim: ClaimFacts, trace: Trace | None = None) -> tuple[Decimal | None, bool]:
    """The ratio for this loan after bands, uplifts and the ceiling; None when no band applies."""
    if rule.compensation is None:
        raise _no_compensation(rule)
    record: list[tuple] = []
    found = _ratio(rule.compensation, plan_of(rule), loan, claim, record)
    if trace is not None:
        trace.steps.extend(render(record))
    return found


def _ratio(comp, plan: Plan, loan: LoanFacts, claim: ClaimFacts, record: list) -> tuple[Decimal | None, bool]:
    if plan.flat is None:
        band = band_entry(comp, loan, _dates(loan, claim), record)
        if band is None:
            return None, False
        ratio = band.ratio
    else:
        ratio = plan.flat
        record.append(plan.flat_entry)
    if plan.uplifts:
        dates = _dates(loan, claim)
        add = plan.add
        for name, when, value, combine, label in plan.uplifts:
            applies, found = when.check(loan, dates)
            if applies:
                ratio = ratio + value if add else max(ratio, value)
            record.append((render_uplift, name, ratio, applies, combine, when, found, label))
    bound = ratio > plan.ceiling
    if bound:
        ratio = plan.ceiling
    record.append((render_ceiling, ratio, plan.ceiling_text, bound))
    return ratio, bound


def _cap_limits(plan: Plan, usage: CapUsage) -> list[tuple]:
    """Each cap as (name, step, limit, already used, note, base of a share, limit text if known); room is limit - used."""
    limits = [(name, step, limit, 0 if used is None else getattr(usage, used), note, None, text)
              for name, step, limit, used, note, text in plan.fixed_caps]
    for name, step, share, field_name, what, prefix, used_field in plan.share_caps:
        base, used = getattr(usage, field_name), getattr(usage, used_field)
        if base is None or used is None:
            raise CompensationError("cap_input_missing", f"cap {name} needs the institution's {what}")
        # A limit is never rounded up: flooring keeps the payout provably within it.
        limit = fen_floor(base, share)
        _fen(base)
        on = usage.institution_prior_year_balance_on
        if on is not None and name == "per_institution_year_share_of_prior_balance":
            prefix = prefix.replace("1 January", on.isoformat())
        limits.append((name, step, limit, used, prefix, base, None))
    if plan.program_budget:
        remaining = usage.program_budget_remaining_fen
        if remaining is None:
            raise CompensationError("cap_input_missing", "the program budget cap needs the remaining budget")
        limits.append(("program_budget", "cap:program_budget", remaining, 0, "remaining program budget", None, None))
    return limits


def compute_compensation(rule: ProgramRule, loan: LoanFacts, claim: ClaimFacts, usage: CapUsage | None = None) -> CompensationResult:
    """Compute the payout on a loss claim under the rule, with every step in the trace."""
    usage = usage or CapUsage()
    comp = rule.compensation
    if comp is None:
        raise CompensationError("not_a_compensation_program", f"program {rule.code} is a {rule.kind}, not a compensation program")
    plan = plan_of(rule)
    record: list[tuple] = [
        plan.rule_entry,
        (render_inputs, loan.principal_fen, loan.disbursed_on, loan.security_type, loan.unsecured_share, loan.first_loan,
         loan.policy_tool, loan.enterprise.revenue_fen, claim.default_on, claim.outstanding_principal_fen,
         claim.unpaid_interest_fen, claim.interest_days, claim.recovered_before_claim_fen),
    ]
    loss = _loss_base(comp, claim, record)
    ceiling_bound = False
    if rule.risk_shares:
        party = next(s for s in rule.risk_shares if s.program)
        shares = split_risk_shares(rule, loss)
        ratio = party.share
        gross = shares[party.party]
        record.append((render_step, "risk_shares", {str(k): format_fen(v) for k, v in shares.items()},
                       SPLIT_NOTES[comp.split_policy].format(party=party.party)))
        _fen(gross)
        record.append((render_amount, "gross", gross, f"share of {party.party} ({party.share})"))
    else:
        found, ceiling_bound = _ratio(comp, plan, loan, claim, record)
        if found is None:
            record.append((render_amount, "amount", 0, "no base ratio applies: nothing payable"))
            return CompensationResult(
                amount_fen=0, ratio=Decimal(0), loss_base_fen=loss, gross_fen=0, shares={comp.payer_party: 0},
                record=record, reasons=("no_band",), rule_code=rule.code, rule_version=rule.version,
            )
        ratio = found
        gross = fen_times(loss, ratio)
        record.append((render_gross, gross, loss, ratio))
        shares = {}
    split = dict(shares)
    amount = gross
    binding = None
    for name, step, limit, used, note, base, limit_text in _cap_limits(plan, usage):
        room = max(limit - used, 0)
        bound = room < amount
        if bound:
            amount, binding = room, name
        if type(limit) is not int or type(used) is not int or type(room) is not int:
            _fen(limit, used, room)
        record.append((render_cap, step, room, limit, used, bound, note, base, limit_text))
    if rule.risk_shares:
        party = next(s for s in rule.risk_shares if s.program)
        shares = {**shares, party.party: amount}
    else:
        shares = {comp.payer_party: amount}
    record.append((render_final, amount, binding))
    return CompensationResult(
        amount_fen=amount,
        ratio=ratio,
        loss_base_fen=loss,
        gross_fen=gross,
        shares=shares,
        record=record,
        binding_cap=binding,
        ceiling_bound=ceiling_bound,
        split=split,
        rule_code=rule.code,
        rule_version=rule.version,
    )
