"""Worked examples of payouts (ratios, uplifts, ceilings, caps, risk shares).

Each expected figure is computed by hand in the comment beside it.
"""

import json
from datetime import date
from decimal import Decimal

import pytest

from tests.unit.worked_facts import ROOMY, claim, loan, yuan
from workflows.compensation import CapUsage, compute_compensation

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
