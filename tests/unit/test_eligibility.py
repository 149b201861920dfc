from datetime import date
from decimal import Decimal

from workflows.eligibility import EligibilityContext, check_application, check_claim, check_registration
from workflows.facts import ClaimFacts, EnterpriseFacts, LoanFacts


def sz_loan(**kw):
    facts = dict(principal_fen=100_000_000, disbursed_on=date(2024, 3, 1), maturity_on=date(2025, 3, 1),
                 enterprise=EnterpriseFacts(industry="C39", revenue_fen=5_000_000_000))
    facts.update(kw)
    return LoanFacts(**facts)


def codes(reasons):
    return [r.code for r in reasons]


def test_a_clean_registration_has_no_reasons(programs):
    rule = programs.rule_for("sz-sme-pool", date(2024, 3, 1))
    context = EligibilityContext(registered_on=date(2024, 6, 1), institution_id="bank-a", firm_banks_this_year=frozenset({"bank-a"}))
    assert check_registration(rule, sz_loan(), context) == []


def test_a_registration_returns_every_failing_reason_not_just_the_first(programs):
    rule = programs.rule_for("sz-sme-pool", date(2024, 3, 1))
    loan = sz_loan(principal_fen=600_000_000, maturity_on=date(2026, 3, 2), enterprise=EnterpriseFacts(industry="K70"))
    # window: 3 months after 1 Mar 2024 closes on 1 Jun 2024; 2 Jun is late
    context = EligibilityContext(registered_on=date(2024, 6, 2), institution_id="bank-a",
                                 firm_banks_this_year=frozenset({"bank-b"}), other_coverage=("guangdong-reguarantee",))
    reasons = check_registration(rule, loan, context)
    assert codes(reasons) == ["registration_window_closed", "principal_above_limit", "term_too_long", "industry_excluded",
                              "another_bank_this_year", "double_coverage"]
    assert reasons[0].message == "registration closed on 2024-06-01 (3 months after disbursement)"
    assert reasons[1].field == "principal"


def test_the_ningbo_pool_takes_only_firms_on_the_white_list_on_the_disbursement_date(programs):
    rule = programs.rule_for("nb-whitelist-pool", date(2024, 8, 1))
    on_list = EnterpriseFacts(memberships=[("ningbo_whitelist", date(2024, 1, 1), date(2024, 7, 31))])
    context = EligibilityContext(registered_on=date(2024, 8, 5))
    assert codes(check_registration(rule, sz_loan(disbursed_on=date(2024, 7, 31), enterprise=on_list), context)) == []
    assert codes(check_registration(rule, sz_loan(disbursed_on=date(2024, 8, 1), enterprise=on_list), context)) == [
        "enterprise_not_on_list"]


def test_startup_loans_to_individuals_have_their_own_ceiling(programs):
    rule = programs.rule_for("sz-startup-guarantee", date(2024, 3, 1))
    context = EligibilityContext(registered_on=date(2024, 3, 5))
    individual = sz_loan(principal_fen=40_000_000, attributes={"borrower": "individual"})
    job_creator = sz_loan(principal_fen=40_000_000, attributes={"borrower": "individual", "jobs_created": 5})
    firm = sz_loan(principal_fen=40_000_000)
    reasons = check_registration(rule, individual, context)
    assert codes(reasons) == ["principal_above_limit"]
    assert reasons[0].message == "principal 400000.00 is above the limit 300000.00 (individual)"
    assert check_registration(rule, job_creator, context) == []
    assert check_registration(rule, firm, context) == []


def test_the_sichuan_pool_checks_revenue_security_type_and_zone(programs):
    rule = programs.rule_for("sc-hitech-zone-pool", date(2024, 3, 1))
    loan = sz_loan(security_type="collateral", enterprise=EnterpriseFacts(revenue_fen=50_000_000_000))
    reasons = check_registration(rule, loan, EligibilityContext(registered_on=date(2024, 3, 10)))
    assert codes(reasons) == ["security_type_not_allowed", "revenue_above_ceiling", "enterprise_condition_not_met"]


def test_a_rule_not_in_force_on_the_governing_date_is_a_reason(programs):
    rule = programs.rule_for("sz-sme-pool", date(2024, 3, 1))
    reasons = check_registration(rule, sz_loan(disbursed_on=date(2023, 10, 31)), EligibilityContext(registered_on=date(2023, 11, 5)))
    assert codes(reasons) == ["rule_not_in_force"]


def test_a_claim_before_ninety_days_overdue_is_not_triggered(programs):
    rule = programs.rule_for("sz-sme-pool", date(2024, 3, 1))
    # default 1 Oct 2024; 90 days later is 30 Dec 2024; claimed 29 Dec
    claim = ClaimFacts(default_on=date(2024, 10, 1), outstanding_principal_fen=50_000_000, claimed_on=date(2024, 12, 29))
    reasons = check_claim(rule, sz_loan(), claim)
    assert codes(reasons) == ["trigger_not_met"]
    assert "90 days overdue (now 89)" in reasons[0].message
    on_time = ClaimFacts(default_on=date(2024, 10, 1), outstanding_principal_fen=50_000_000, claimed_on=date(2024, 12, 30))
    assert check_claim(rule, sz_loan(), on_time) == []


def test_a_substandard_classification_triggers_a_claim_early(programs):
    rule = programs.rule_for("sz-sme-pool", date(2024, 3, 1))
    claim = ClaimFacts(default_on=date(2024, 10, 1), outstanding_principal_fen=50_000_000, claimed_on=date(2024, 11, 15),
                       classification="substandard", classified_on=date(2024, 11, 10))
    assert check_claim(rule, sz_loan(), claim) == []


def test_a_claim_after_its_window_is_refused_with_the_closing_date(programs):
    rule = programs.rule_for("sz-sme-pool", date(2024, 3, 1))
    # triggered 30 Dec 2024 (90 days after 1 Oct); 6 months later: 30 Jun 2025; claimed 1 Jul 2025
    claim = ClaimFacts(default_on=date(2024, 10, 1), outstanding_principal_fen=50_000_000, claimed_on=date(2025, 7, 1))
    reasons = check_claim(rule, sz_loan(), claim)
    assert codes(reasons) == ["claim_window_closed"]
    assert reasons[0].message.startswith("claims closed on 2025-06-30")


def test_a_subsidy_application_after_its_window_is_refused_not_back_dated(programs):
    rule = programs.rule_for("sz-tech-interest", date(2024, 4, 1))
    loan = sz_loan(enterprise=EnterpriseFacts(memberships=[("tech_sme", date(2024, 1, 1), date(2024, 12, 31))]))
    # Q1 2024 closes 30 days after 31 Mar: 30 Apr
    assert check_application(rule, period_end=date(2024, 3, 31), applied_on=date(2024, 4, 30), loan=loan) == []
    late = check_application(rule, period_end=date(2024, 3, 31), applied_on=date(2024, 5, 1), loan=loan, overdue=True)
    assert codes(late) == ["application_late", "loan_not_current"]
    early = check_application(rule, period_end=date(2024, 3, 30), applied_on=date(2024, 3, 30), loan=sz_loan())
    assert codes(early) == ["period_misaligned", "application_too_early", "enterprise_not_on_list"]


def test_a_reward_application_from_a_guarantor_is_refused(programs):
    rule = programs.rule_for("sz-loan-insurance-reward", date(2025, 1, 15))
    reasons = check_application(rule, period_end=date(2024, 12, 31), applied_on=date(2025, 1, 15), institution_kind="guarantor")
    assert codes(reasons) == ["institution_kind_not_rewarded"]
    assert reasons[0].to_dict()["field"] == "institution"
    assert Decimal("0.005") == rule.reward.rate_for("bank").rate
