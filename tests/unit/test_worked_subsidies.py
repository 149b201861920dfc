"""Worked examples of subsidies, rewards and recoveries.

Each expected figure is computed by hand in the comment beside it.
"""

from datetime import date
from decimal import Decimal

import pytest

from tests.unit.worked_facts import claim, loan, yuan
from workflows.compensation import CapUsage, compute_compensation
from workflows.recovery import compute_recovery_return
from workflows.subsidy import (
    FeeFacts,
    InterestFacts,
    SubsidyUsage,
    compute_fee_subsidy,
    compute_interest_subsidy,
    compute_reward,
)


def test_interest_beyond_the_day_cap_is_dropped_pro_rata(programs):
    rule = programs.rule_for("sz-startup-guarantee", date(2024, 3, 1))
    facts = claim("100000.00", unpaid_interest_fen=yuan("9000.00"), interest_days=120)
    result = compute_compensation(rule, loan("100000.00"), facts, CapUsage(program_budget_remaining_fen=yuan("1000000.00")))
    # interest 9,000.00 x 90/120 = 6,750.00; loss 106,750.00; fund's 40 % = 42,700.00
    assert result.loss_base_fen == yuan("106750.00")
    assert result.amount_fen == yuan("42700.00")


# --- interest subsidies -----------------------------------------------------------------------------------------

def test_an_lpr_capped_interest_subsidy_is_pro_rated_over_a_leap_year(make_rule, lpr):
    rule = make_rule("""
[interest]
basis = "lpr_excess"
borrower_pays_up_to_lpr_minus_bp = 50
rate_ceiling_lpr_plus_bp = 150
lpr_fixing = "disbursement"
day_count = "actual/actual"
[application]
cadence = "quarter"
window = { days = 30 }
""", kind="interest_subsidy", governing_date="application")
    facts = InterestFacts(loan=loan(), loan_rate=Decimal("0.0520"), period_start=date(2024, 3, 1), period_end=date(2024, 8, 31),
                          interest_paid_fen=yuan("26577.78"))
    result = compute_interest_subsidy(rule, facts, lpr)
    # LPR 1y on 2024-03-01 = 3.45 %; counted rate min(5.20, 3.45 + 1.50 = 4.95) = 4.95 %;
    # borrower pays up to 3.45 - 0.50 = 2.95 %; the budget pays 4.95 - 2.95 = 2.00 %.
    # 1 Mar - 31 Aug 2024 = 184 days of a 366-day year:
    # 1,000,000.00 x 0.02 x 184/366 = 10,054.644808... -> 10,054.64 (with /365 it would be 10,082.19)
    assert result.amount_fen == yuan("10054.64")


def test_shenzhen_pays_seventy_percent_of_interest_up_to_lpr_plus_150bp_for_a_first_loan(programs, lpr):
    rule = programs.rule_for("sz-tech-interest", date(2024, 4, 10))
    usage = SubsidyUsage(program_budget_remaining_fen=yuan("1000000.00"))
    first = loan(disbursed=date(2023, 12, 1), first_loan=True)
    other = loan(disbursed=date(2023, 12, 1))
    period = dict(loan_rate=Decimal("0.066"), period_start=date(2024, 1, 1), period_end=date(2024, 3, 31),
                  interest_paid_fen=yuan("10000.00"), applied_on=date(2024, 4, 10))
    # LPR on 2023-12-01 = 3.45 %; ceiling 4.95 %; counted share of interest 4.95/6.60 = 0.75;
    # 10,000.00 x 0.75 = 7,500.00 eligible; first loan 70 % -> 5,250.00; otherwise 50 % -> 3,750.00
    assert compute_interest_subsidy(rule, InterestFacts(loan=first, **period), lpr, usage).amount_fen == yuan("5250.00")
    assert compute_interest_subsidy(rule, InterestFacts(loan=other, **period), lpr, usage).amount_fen == yuan("3750.00")


def test_a_daily_lpr_splits_the_period_at_each_fixing(make_rule, lpr):
    rule = make_rule("""
[interest]
basis = "interest_paid"
share = "0.50"
rate_ceiling_lpr_plus_bp = 150
lpr_fixing = "daily"
[application]
cadence = "quarter"
window = { days = 30 }
""", kind="interest_subsidy", governing_date="application")
    facts = InterestFacts(loan=loan(), loan_rate=Decimal("0.05"), period_start=date(2024, 7, 1), period_end=date(2024, 9, 30),
                          interest_paid_fen=yuan("9200.00"))
    # LPR 3.45 % to 21 Jul (21 days, ceiling 4.95 %), 3.35 % from 22 Jul (71 days, ceiling 4.85 %):
    # 9,200.00 x (21/92 x 4.95/5.00 + 71/92 x 4.85/5.00) = 9,200.00 x 89.66/92 = 8,966.00; x 50 % = 4,483.00
    result = compute_interest_subsidy(rule, facts, lpr)
    assert result.amount_fen == yuan("4483.00")
    assert len([s for s in result.trace if s["step"] == "segment"]) == 2


def test_no_interest_subsidy_on_an_overdue_loan(programs, lpr):
    rule = programs.rule_for("sz-tech-interest", date(2024, 4, 10))
    facts = InterestFacts(loan=loan(disbursed=date(2023, 12, 1)), loan_rate=Decimal("0.04"), period_start=date(2024, 1, 1),
                          period_end=date(2024, 3, 31), interest_paid_fen=yuan("10000.00"), overdue=True)
    result = compute_interest_subsidy(rule, facts, lpr, SubsidyUsage(program_budget_remaining_fen=0))
    assert (result.amount_fen, result.reasons) == (0, ("loan_not_current",))


# --- fee subsidies and rewards --------------------------------------------------------------------------------

def test_the_guarantee_fee_subsidy_stops_at_its_annual_cap(programs):
    rule = programs.rule_for("sz-tech-fee", date(2024, 4, 10))
    usage = SubsidyUsage(program_budget_remaining_fen=yuan("80000000.00"))
    # 700,000.00 x 50 % = 350,000.00 > 300,000.00 a year for guarantee fees
    result = compute_fee_subsidy(rule, FeeFacts(loan=loan(), fee_kind="guarantee_fee", fee_paid_fen=yuan("700000.00")), usage)
    assert (result.gross_fen, result.amount_fen, result.binding_cap) == (yuan("350000.00"), yuan("300000.00"), "per_firm_program_year")


def test_all_subsidies_to_one_firm_stop_at_one_million_a_year(programs):
    rule = programs.rule_for("sz-tech-fee", date(2024, 4, 10))
    usage = SubsidyUsage(firm_year_all_subsidies_fen=yuan("950000.00"), firm_lifetime_all_subsidies_fen=yuan("950000.00"),
                         program_budget_remaining_fen=yuan("80000000.00"))
    # premium 200,000.00 x 50 % = 100,000.00; the firm has 1,000,000.00 - 950,000.00 = 50,000.00 left this year
    result = compute_fee_subsidy(rule, FeeFacts(loan=loan(), fee_kind="insurance_premium", fee_paid_fen=yuan("200000.00")), usage)
    assert (result.amount_fen, result.binding_cap) == (yuan("50000.00"), "per_firm_year_all_subsidies")


def test_a_first_loan_gets_the_raised_guarantee_fee_share(programs):
    rule = programs.rule_for("sz-tech-fee", date(2024, 4, 10))
    usage = SubsidyUsage(program_budget_remaining_fen=yuan("80000000.00"))
    # 12,345.67 x 70 % = 8,641.969 -> 8,641.97
    facts = FeeFacts(loan=loan(first_loan=True), fee_kind="guarantee_fee", fee_paid_fen=yuan("12345.67"))
    assert compute_fee_subsidy(rule, facts, usage).amount_fen == yuan("8641.97")


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        ("bank", "61728.39"),  # 12,345,678.90 loans issued x 0.5 % = 61,728.3945 -> 61,728.39
        ("insurer", "123456.79"),  # 12,345,678.90 underwritten x 1 % = 123,456.789 -> 123,456.79
        ("guarantor", "0.00"),  # guarantors earn nothing under art. 三
    ],
)
def test_small_loan_insurance_rewards_pay_half_a_percent_to_banks_and_one_percent_to_insurers(programs, kind, amount):
    rule = programs.rule_for("sz-loan-insurance-reward", date(2025, 2, 1))
    usage = SubsidyUsage(program_budget_remaining_fen=yuan("30000000.00"))
    assert compute_reward(rule, kind, yuan("12345678.90"), usage).amount_fen == yuan(amount)


# --- recoveries --------------------------------------------------------------------------------------------------

def test_a_recovery_returns_the_paid_ratio_net_of_costs():
    # (50,000.00 - 2,345.67) x 0.35 = 47,654.33 x 0.35 = 16,679.0155 -> 16,679.02
    result = compute_recovery_return(yuan("350000.00"), Decimal("0.35"), yuan("50000.00"), yuan("2345.67"), 0)
    assert (result.returned_fen, result.capped) == (yuan("16679.02"), False)


def test_a_recovery_larger_than_the_remaining_paid_amount_returns_only_the_remainder():
    # paid 300,000.00 at 30 %, 280,000.00 already returned; (100,000.00 - 10,000.00) x 0.30 = 27,000.00 due,
    # but only 20,000.00 of the payout is still out: return 20,000.00, split 60/40 = 12,000.00 / 8,000.00
    result = compute_recovery_return(yuan("300000.00"), Decimal("0.30"), yuan("100000.00"), yuan("10000.00"), yuan("280000.00"),
                                     shares={"city": Decimal("0.6"), "district": Decimal("0.4")})
    assert (result.due_fen, result.returned_fen, result.capped) == (yuan("27000.00"), yuan("20000.00"), True)
    assert result.shares == {"city": yuan("12000.00"), "district": yuan("8000.00")}


def test_a_recovery_split_with_a_remainder_fen_still_sums_exactly():
    # 100.00 recovered at ratio 1 split in thirds: 33.34 / 33.33 / 33.33
    thirds = {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}
    result = compute_recovery_return(yuan("500.00"), Decimal(1), yuan("100.00"), 0, 0, shares=thirds)
    assert result.shares == {"a": 3334, "b": 3333, "c": 3333}
