"""Properties of the compensation engine that hold for any loss, loan and cap usage."""

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.compensation import CapUsage, ClaimFacts, EnterpriseFacts, LoanFacts, compute_compensation
from workflows.money import round_to_fen
from workflows.recovery import compute_recovery_return

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
POOLS = ("sz-sme-pool", "sc-hitech-zone-pool", "nb-whitelist-pool", "sz-startup-guarantee")
CATEGORIES = ("high_tech", "tech_sme", "specialized", "innovative_sme", "strategic_emerging", "ningbo_whitelist")

fen = st.integers(min_value=0, max_value=10**11)
loans = st.builds(
    lambda principal, revenue, security, first, tool, lists: LoanFacts(
        principal_fen=principal,
        disbursed_on=date(2024, 8, 1),
        maturity_on=date(2025, 6, 1),
        security_type=security,
        first_loan=first,
        policy_tool=tool,
        enterprise=EnterpriseFacts(revenue_fen=revenue, memberships=[(c, date(2024, 1, 1), None) for c in lists]),
    ),
    principal=st.integers(min_value=1, max_value=10**10),
    revenue=st.integers(min_value=0, max_value=5 * 10**10),
    security=st.sampled_from(["unsecured", "ip_pledge", "guaranteed", "collateral"]),
    first=st.booleans(),
    tool=st.booleans(),
    lists=st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3),
)
usages = st.builds(
    CapUsage,
    enterprise_year_fen=fen,
    enterprise_lifetime_fen=fen,
    institution_year_fen=fen,
    institution_registered_principal_fen=fen,
    institution_prior_year_balance_fen=fen,
    program_budget_remaining_fen=fen,
    institution_cohort_fen=fen,
)


def claim_for(loss_fen, interest_fen=0, days=0):
    return ClaimFacts(default_on=date(2025, 1, 1), outstanding_principal_fen=loss_fen, unpaid_interest_fen=interest_fen, interest_days=days)


@SETTINGS
@given(code=st.sampled_from(POOLS), loan=loans, loss=fen, usage=usages)
def test_payout_never_exceeds_loss_times_ceiling_nor_any_cap(programs, code, loan, loss, usage):
    rule = programs.rule_for(code, date(2024, 8, 1))
    result = compute_compensation(rule, loan, claim_for(loss), usage)
    assert 0 <= result.amount_fen <= round_to_fen(Decimal(result.loss_base_fen) / 100 * rule.compensation.ceiling)
    assert result.ratio <= rule.compensation.ceiling
    for step in result.trace:
        if step["step"].startswith("cap:"):
            assert result.amount_fen <= step["fen"]
    if result.binding_cap is not None:
        assert result.amount_fen == next(s["fen"] for s in result.trace if s["step"] == f"cap:{result.binding_cap}")
        assert result.amount_fen < result.gross_fen


@SETTINGS
@given(code=st.sampled_from(POOLS), loan=loans, losses=st.lists(fen, min_size=2, max_size=2), usage=usages)
def test_payout_is_monotonic_in_loss(programs, code, loan, losses, usage):
    rule = programs.rule_for(code, date(2024, 8, 1))
    low, high = sorted(losses)
    assert compute_compensation(rule, loan, claim_for(low), usage).amount_fen <= compute_compensation(rule, loan, claim_for(high), usage).amount_fen


@SETTINGS
@given(loan=loans, principal=fen, interest=st.integers(min_value=0, max_value=10**9), days=st.integers(min_value=0, max_value=400))
def test_risk_shares_sum_exactly_to_the_loss_base(programs, loan, principal, interest, days):
    rule = programs.rule_for("sz-startup-guarantee", date(2024, 8, 1))
    result = compute_compensation(rule, loan, claim_for(principal, interest, days), CapUsage(program_budget_remaining_fen=10**13))
    assert sum(result.split.values()) == result.loss_base_fen
    fund = result.split["guarantee_fund"]
    assert fund <= result.loss_base_fen * Decimal("0.40")  # the fund's part is never rounded up
    assert result.amount_fen == min(fund, 160_000_000)  # its share, or the 1,600,000.00 per-loan cap
    assert result.loss_base_fen <= principal + interest


@SETTINGS
@given(
    paid=fen,
    ratio=st.decimals(min_value=0, max_value=1, places=4),
    recoveries=st.lists(st.tuples(fen, fen), min_size=1, max_size=6),
    weights=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=1, places=2), min_size=1, max_size=4),
)
def test_recoveries_never_return_more_than_was_paid_and_split_without_losing_a_fen(paid, ratio, recoveries, weights):
    returned = 0
    shares = {f"party{i}": w for i, w in enumerate(weights)}
    for recovered, costs in recoveries:
        result = compute_recovery_return(paid, ratio, recovered, costs, returned, shares=shares)
        assert sum(result.shares.values()) == result.returned_fen
        assert result.returned_fen >= 0
        returned += result.returned_fen
    assert returned <= paid
