"""Worked examples: each expected figure is computed by hand in the comment beside it."""

import json
from datetime import date
from decimal import Decimal

import pytest

from workflows.compensation import CapUsage, ClaimFacts, EnterpriseFacts, LoanFacts, compute_compensation
from workflows.recovery import compute_recovery_return
from workflows.subsidy import FeeFacts, InterestFacts, SubsidyUsage, compute_fee_subsidy, compute_interest_subsidy, compute_reward


def yuan(text: str) -> int:
    return int(Decimal(text) * 100)


ROOMY = CapUsage(
    institution_registered_principal_fen=yuan("1000000000.00"),
    institution_prior_year_balance_fen=yuan("1000000000.00"),
    program_budget_remaining_fen=yuan("100000000.00"),
    institution_cohort_fen=0,
)


def loan(principal="1000000.00", disbursed=date(2024, 3, 1), revenue=None, memberships=(), **kw):
    return LoanFacts(
        principal_fen=yuan(principal),
        disbursed_on=disbursed,
        maturity_on=date(disbursed.year + 1, disbursed.month, 1),
        enterprise=EnterpriseFacts(revenue_fen=None if revenue is None else yuan(revenue), memberships=memberships),
        **kw,
    )


def claim(loss="1000000.00", **kw):
    return ClaimFacts(default_on=date(2024, 12, 1), outstanding_principal_fen=yuan(loss), claimed_on=date(2025, 3, 10), **kw)


# --- banded base ratios (Sichuan high-tech-zone pool: revenue bands, max-combined uplifts) ---------------

SICHUAN_CASES = [
    # revenue 15m is in (-inf, 20m] -> 40 %; 800,000.00 x 0.40 = 320,000.00
    ("a small firm gets the top band", dict(revenue="15000000.00"), "800000.00", "0.40", "320000.00"),
    # the 20m edge is inclusive ("at_most"): still 40 %; 800,000.00 x 0.40 = 320,000.00
    ("the band edge is inclusive", dict(revenue="20000000.00"), "800000.00", "0.40", "320000.00"),
    # one fen over the edge falls in (20m, 100m] -> 30 %; 800,000.00 x 0.30 = 240,000.00
    ("one fen over the edge drops a band", dict(revenue="20000000.01"), "800000.00", "0.30", "240000.00"),
    # revenue 250m is in (100m, 400m] -> 20 %; 800,000.00 x 0.20 = 160,000.00
    ("a larger firm gets the bottom band", dict(revenue="250000000.00"), "800000.00", "0.20", "160000.00"),
    # max: base 30 % (revenue 50m), IP pledge 50 %, policy tool 45 % -> highest wins = 50 %;
    # 1,000,000.00 x 0.50 = 500,000.00 (with "add" it would have been far above the ceiling)
    ("max-combined uplifts take the highest", dict(revenue="50000000.00", security_type="ip_pledge", policy_tool=True),
     "1000000.00", "0.50", "500000.00"),
    # max: base 40 % beats nothing; policy tool alone 45 % -> 45 %; 1,000,000.00 x 0.45 = 450,000.00
    ("an uplift below another still wins over the base", dict(revenue="15000000.00", policy_tool=True),
     "1000000.00", "0.45", "450000.00"),
]


@pytest.mark.parametrize(("title", "facts", "loss", "ratio", "amount"), SICHUAN_CASES, ids=[c[0] for c in SICHUAN_CASES])
def test_sichuan_banded_ratios_and_max_uplifts(programs, title, facts, loss, ratio, amount):
    rule = programs.rule_for("sc-hitech-zone-pool", date(2024, 3, 1))
    revenue = facts.pop("revenue")
    result = compute_compensation(rule, loan(revenue=revenue, **facts), claim(loss), ROOMY)
    assert result.ratio == Decimal(ratio)
    assert result.amount_fen == yuan(amount)
    assert result.binding_cap is None


def test_a_firm_above_every_band_gets_nothing_and_says_why(programs):
    rule = programs.rule_for("sc-hitech-zone-pool", date(2024, 3, 1))
    result = compute_compensation(rule, loan(revenue="400000000.01"), claim(), ROOMY)
    assert result.amount_fen == 0
    assert result.reasons == ("no_band",)


# --- add-combined uplifts and the ceiling (Shenzhen SME pool 2023.1: 30 % + 10 + 5 + 5, ceiling 50 %) ----

HIGH_TECH = [("high_tech", date(2022, 1, 1), date(2024, 12, 31))]

SHENZHEN_CASES = [
    # no list, not first loan: base 30 %; 2,000,000.00 x 0.30 = 600,000.00
    ("base only", dict(), "0.30", "600000.00", False),
    # high-tech on the disbursement date +10 and first loan +5 -> 45 %; 2,000,000.00 x 0.45 = 900,000.00
    ("list and first loan add up", dict(memberships=HIGH_TECH, first_loan=True), "0.45", "900000.00", False),
    # all three uplifts: 30 + 10 + 5 + 5 = 50 % = ceiling exactly, so the ceiling does not bind;
    # 2,000,000.00 x 0.50 = 1,000,000.00
    ("reaching the ceiling exactly is not binding",
     dict(memberships=HIGH_TECH + [("strategic_emerging", date(2024, 1, 1), None)], first_loan=True),
     "0.50", "1000000.00", False),
]


@pytest.mark.parametrize(("title", "facts", "ratio", "amount", "ceiling_bound"), SHENZHEN_CASES, ids=[c[0] for c in SHENZHEN_CASES])
def test_shenzhen_add_uplifts(programs, title, facts, ratio, amount, ceiling_bound):
    rule = programs.rule_for("sz-sme-pool", date(2024, 3, 1))
    result = compute_compensation(rule, loan("2000000.00", **facts), claim("2000000.00"), ROOMY)
    assert (result.ratio, result.amount_fen, result.ceiling_bound) == (Decimal(ratio), yuan(amount), ceiling_bound)


def test_a_list_membership_that_expired_the_day_before_disbursement_earns_no_uplift(programs):
    rule = programs.rule_for("sz-sme-pool", date(2024, 3, 1))
    expired = [("high_tech", date(2021, 3, 1), date(2024, 2, 29))]  # last valid day 29 Feb, disbursed 1 Mar
    still_valid = [("high_tech", date(2021, 3, 1), date(2024, 3, 1))]
    # expired: base 30 % only; 1,000,000.00 x 0.30 = 300,000.00
    result = compute_compensation(rule, loan(memberships=expired), claim(), ROOMY)
    assert (result.ratio, result.amount_fen) == (Decimal("0.30"), yuan("300000.00"))
    # valid through the disbursement day: 30 + 10 = 40 %; 1,000,000.00 x 0.40 = 400,000.00
    result = compute_compensation(rule, loan(memberships=still_valid), claim(), ROOMY)
    assert (result.ratio, result.amount_fen) == (Decimal("0.40"), yuan("400000.00"))


def test_a_ceiling_binds_when_uplifts_add_past_it(make_rule):
    rule = make_rule("""
[claim]
trigger_days_overdue = 90
[compensation]
base_ratio = "0.40"
combine = "add"
ceiling = "0.50"
[[compensation.uplifts]]
name = "first_loan"
add = "0.10"
when = { first_loan = true }
[[compensation.uplifts]]
name = "unsecured"
add = "0.10"
when = { security_types = ["unsecured"] }
""")
    # 40 + 10 + 10 = 60 % > ceiling 50 % -> 50 %; 1,234,567.89 x 0.50 = 617,283.945 -> half-up 617,283.95
    result = compute_compensation(rule, loan(first_loan=True), claim("1234567.89"))
    assert result.ceiling_bound is True
    assert result.ratio == Decimal("0.50")
    assert result.amount_fen == yuan("617283.95")
    ceiling_step = next(s for s in result.trace if s["step"] == "ceiling")
    assert ceiling_step["detail"] == {"ceiling": "0.50", "bound": True}


# --- every cap level binding -------------------------------------------------------------------------------

CAPPED_POOL = """
[budget]
default_annual = "50000000.00"
[claim]
trigger_days_overdue = 90
[compensation]
base_ratio = "0.50"
ceiling = "0.50"
[caps]
per_loan = "800000.00"
per_enterprise_year = "1000000.00"
per_enterprise_lifetime = "3000000.00"
per_institution_year = "5000000.00"
per_institution_year_share_of_registered = "0.02"
per_institution_year_share_of_prior_balance = "0.01"
"""

CAP_CASES = [
    # gross 2,000,000.00 x 0.50 = 1,000,000.00; per loan 800,000.00 is the tightest
    ("per_loan", {}, "800000.00"),
    # enterprise used 300,000.00 of 1,000,000.00 this year -> room 700,000.00
    ("per_enterprise_year", dict(enterprise_year_fen=yuan("300000.00")), "700000.00"),
    # enterprise used 2,400,000.00 of 3,000,000.00 lifetime -> room 600,000.00
    ("per_enterprise_lifetime", dict(enterprise_lifetime_fen=yuan("2400000.00")), "600000.00"),
    # institution used 4,500,000.00 of 5,000,000.00 this year -> room 500,000.00
    ("per_institution_year", dict(institution_year_fen=yuan("4500000.00")), "500000.00"),
    # 2 % of registered 30,000,000.00 = 600,000.00, less 150,000.00 used -> 450,000.00
    ("per_institution_year_share_of_registered",
     dict(institution_registered_principal_fen=yuan("30000000.00"), institution_year_fen=yuan("150000.00")), "450000.00"),
    # 1 % of prior-year balance 40,000,000.37 = 400,000.0037 -> floored to 400,000.00 (a limit never rounds up)
    ("per_institution_year_share_of_prior_balance", dict(institution_prior_year_balance_fen=yuan("40000000.37")), "400000.00"),
    # remaining budget 350,000.00
    ("program_budget", dict(program_budget_remaining_fen=yuan("350000.00")), "350000.00"),
]


@pytest.mark.parametrize(("cap", "usage", "amount"), CAP_CASES, ids=[c[0] for c in CAP_CASES])
def test_each_cap_level_binds(make_rule, cap, usage, amount):
    rule = make_rule(CAPPED_POOL)
    base = dict(
        institution_registered_principal_fen=yuan("1000000000.00"),
        institution_prior_year_balance_fen=yuan("1000000000.00"),
        program_budget_remaining_fen=yuan("50000000.00"),
    )
    result = compute_compensation(rule, loan("2000000.00"), claim("2000000.00"), CapUsage(**{**base, **usage}))
    assert result.gross_fen == yuan("1000000.00")
    assert result.amount_fen == yuan(amount)
    assert result.binding_cap == cap
    json.dumps(result.trace)  # the trace stores as JSON
    assert [s["step"] for s in result.trace if s["step"].startswith("cap:")] == [f"cap:{c[0]}" for c in CAP_CASES]


# --- guarantee fund: loss with capped interest, 4321 risk shares with a remainder fen ------------------------

def test_risk_shares_with_a_remainder_fen(programs):
    rule = programs.rule_for("sz-startup-guarantee", date(2024, 3, 1))
    facts = claim("250000.00", unpaid_interest_fen=yuan("3000.01"), interest_days=60)
    result = compute_compensation(rule, loan("250000.00"), facts, CapUsage(program_budget_remaining_fen=yuan("1000000.00")))
    # loss = 250,000.00 + 3,000.01 (60 days, within the 90-day cap) = 253,000.01 = 25,300,001 fen
    # the fund's 40 % = 10,120,000.4 fen, floored to 10,120,000 (public money never pays a rounding fen);
    # the other 15,180,001 fen split 3:2:1 = 7,590,000.5 / 5,060,000.33 / 2,530,000.17; floors sum to
    # 15,180,000 and the leftover fen goes to the largest remainder (0.5, the re-guarantor): 75,900.01
    assert result.loss_base_fen == yuan("253000.01")
    assert result.shares == {
        "guarantee_fund": yuan("101200.00"),
        "reguarantor": yuan("75900.01"),
        "bank": yuan("50600.00"),
        "district_government": yuan("25300.00"),
    }
    assert sum(result.split.values()) == result.loss_base_fen
    assert result.amount_fen == yuan("101200.00")
    assert result.ratio == Decimal("0.40")


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
