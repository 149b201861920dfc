"""Rule language v2: each construct in a program file of its own, checked by the file's own [[examples]]."""

import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from workflows.eligibility import EligibilityContext, check_claim, check_registration
from workflows.example_runner import run_examples
from workflows.facts import ClaimFacts, EnterpriseAttribute, EnterpriseFacts, ListMembership, LoanFacts
from workflows.periods import day_count_days, year_fraction
from workflows.rules import NoRuleInForce, RuleError, load_programs, load_rule

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "programs"
DEMOS = sorted(FIXTURES.glob("*/*.toml"))
SHIPPED = sorted((ROOT / "config" / "programs").glob("*/*.toml"))


@pytest.mark.parametrize("path", DEMOS + SHIPPED, ids=[f"{p.parent.name}/{p.stem}" for p in DEMOS + SHIPPED])
def test_every_example_of_every_program_file_passes(path):
    rule = load_rule(path)
    outcomes = run_examples(rule)
    assert [o.problems for o in outcomes] == [[] for _ in outcomes]
    assert len(outcomes) >= 1


def _expected_amounts(text: str) -> list[re.Match]:
    return list(re.finditer(r'(expect = \{ amount = ")(\d+)\.(\d\d)(")', text))


# Files whose examples expect an amount (a file expecting only refusals has no fen to move).
PRICED = [p for p in DEMOS + SHIPPED if _expected_amounts(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", PRICED, ids=[f"{p.parent.name}/{p.stem}" for p in PRICED])
def test_a_file_whose_expected_amount_is_one_fen_off_does_not_load(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    first = _expected_amounts(text)[0]
    fen = int(first.group(2)) * 100 + int(first.group(3)) + 1
    changed = text[:first.start()] + f'{first.group(1)}{fen // 100}.{fen % 100:02d}{first.group(4)}' + text[first.end():]
    target = tmp_path / path.parent.name / path.name
    target.parent.mkdir()
    target.write_text(changed, encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_rule(target)
    index = text[:first.start()].count("[[examples]]") - 1
    wanted = f"expected amount {fen // 100}.{fen % 100:02d}, computed {first.group(2)}.{first.group(3)}"
    assert any(f"examples[{index}]" in m and wanted in m for m in caught.value.messages), caught.value.messages


def test_an_any_uplift_counts_once_however_many_of_its_members_hold():
    rule = load_rule(FIXTURES / "demo-any-uplift" / "2024.1.toml")
    both = run_examples(rule)[0]
    assert both.amount_fen == 32_000_000
    uplift = next(s for s in both.trace if s["step"] == "uplift:key_firm_or_ip_pledge")
    assert uplift["value"] == "0.40"
    assert uplift["detail"]["conditions"] == [
        "met: any of [met: on list city_key_firm on 2024-03-01 (disbursement date) | met: security type in ip_pledge]"]


def test_registration_refuses_a_loan_in_no_tier_with_the_gates_label():
    rule = load_rule(FIXTURES / "demo-unsecured-tiers" / "2024.1.toml")
    loan = LoanFacts(principal_fen=100_000_000, disbursed_on=date(2024, 3, 1), maturity_on=date(2025, 3, 1),
                     security_type="mixed", unsecured_share=Decimal("0.50"))
    reasons = check_registration(rule, loan, EligibilityContext(registered_on=date(2024, 3, 2)))
    assert [(r.code, r.field, r.message) for r in reasons] == [
        ("gate_not_met", "gates.a_tier_applies", "信用贷款占比须超过50%: no tier applies (unsecured_share 0.50)")]


def test_a_banded_claim_in_no_band_is_refused_rather_than_computed_as_nothing(programs):
    rule = programs.rule_for("sc-hitech-zone-pool", date(2024, 3, 1))
    firm = EnterpriseFacts(revenue_fen=40_000_000_001, attributes=(EnterpriseAttribute("in_high_tech_zone", "true"),))
    loan = LoanFacts(principal_fen=100_000_000, disbursed_on=date(2024, 3, 1), maturity_on=date(2025, 3, 1), enterprise=firm)
    claim = ClaimFacts(default_on=date(2024, 12, 1), outstanding_principal_fen=80_000_000, claimed_on=date(2025, 3, 10))
    reasons = check_claim(rule, loan, claim)
    assert [(r.code, r.message) for r in reasons] == [
        ("no_tier_applies", "nothing would be payable: no tier applies (revenue 400000000.01 yuan)")]


def test_a_revoked_membership_stops_counting_on_its_revocation_day():
    entry = ListMembership("zone_whitelist", date(2024, 1, 1), date(2024, 12, 31), revoked_on=date(2024, 2, 15))
    assert [entry.covers(d) for d in (date(2024, 2, 14), date(2024, 2, 15), date(2024, 3, 1))] == [True, False, False]


def test_a_firm_attribute_is_read_as_of_the_date_and_for_its_fiscal_year():
    firm = EnterpriseFacts(attributes=(
        EnterpriseAttribute("revenue", "8000000.00", date(2024, 1, 20), None, 2023),
        EnterpriseAttribute("revenue", "30000000.00", date(2025, 1, 20), None, 2024),
    ))
    assert firm.attribute("revenue", date(2024, 3, 1), 2023).value == "8000000.00"
    assert firm.attribute("revenue", date(2024, 3, 1), 2024) is None
    assert firm.attribute("revenue", date(2025, 3, 1)).value == "30000000.00"


@pytest.mark.parametrize(("start", "end", "convention", "days", "fraction"), [
    (date(2024, 1, 1), date(2024, 6, 30), "actual/360", 182, "0.50555555555555555555555555555555555555555555555556"),
    (date(2024, 1, 1), date(2024, 6, 30), "actual/365", 182, "0.49863013698630136986301369863013698630136986301370"),
    (date(2024, 1, 1), date(2024, 6, 30), "30/360", 180, "0.5"),
    (date(2024, 1, 31), date(2024, 3, 30), "30/360", 60, "0.16666666666666666666666666666666666666666666666667"),
])
def test_day_counts(start, end, convention, days, fraction):
    assert day_count_days(start, end, convention) == days
    assert year_fraction(start, end, convention) == Decimal(fraction)


def test_an_application_governed_program_names_the_date_that_governs_each_use(tmp_path):
    registry = load_programs(FIXTURES)
    rule = registry.rule_for_use("demo-half-year-subsidy", "registration",
                                 {"disbursement": date(2023, 12, 15), "registration": date(2024, 2, 1)})
    assert (rule.version, rule.governing_for("registration"), rule.governing_for("application")) == \
        ("2024.1", "registration", "application")
    with pytest.raises(NoRuleInForce) as caught:
        registry.rule_for_use("demo-half-year-subsidy", "registration",
                              {"disbursement": date(2023, 11, 1), "registration": date(2023, 12, 1)})
    assert str(caught.value) == (
        "program 'demo-half-year-subsidy' cannot be used for registration: registration is governed by the "
        "registration date 2023-12-01, and no version is in force then (versions: 2024.1 from 2024-01-01 to open end)")


def test_check_program_passes_a_good_file_and_fails_when_one_expected_fen_changes(tmp_path):
    from click.testing import CliRunner

    from claims.program_commands import check_program

    path = FIXTURES / "demo-largest-remainder" / "2024.1.toml"
    good = CliRunner().invoke(check_program, [str(path)])
    assert good.exit_code == 0, good.output
    assert "1 of 1 examples pass" in good.output and "PASS the rounding fen goes" in good.output
    changed = tmp_path / "demo-largest-remainder" / "2024.1.toml"
    changed.parent.mkdir()
    changed.write_text(path.read_text(encoding="utf-8").replace('bank = "350000.01"', 'bank = "350000.02"'), encoding="utf-8")
    bad = CliRunner().invoke(check_program, [str(changed)])
    assert bad.exit_code == 1
    assert "0 of 1 examples pass" in bad.output
    assert "expected shares {'guarantee_fund': '250000.01', 'bank': '350000.02', 'guarantor': '400000.01'}" in bad.output


def test_a_condition_on_a_date_its_use_case_does_not_have_is_refused_on_load(tmp_path):
    source = FIXTURES / "demo-any-uplift" / "2024.1.toml"
    target = tmp_path / "demo-any-uplift" / "2024.1.toml"
    target.parent.mkdir()
    target.write_text(source.read_text(encoding="utf-8").replace(
        '{ list = "city_key_firm" }', '{ list = "city_key_firm", list_on = "application" }'), encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_rule(target)
    assert caught.value.messages == [
        f"{target}: compensation.uplifts[0].when: looks at the application date, which filing does not have "
        "(it has claim, default, disbursement)"]


def test_a_program_directory_with_a_failing_example_does_not_load(tmp_path):
    # What the app (and so `claims seed`) does at start: load_programs reports the example with its file and key.
    for path in DEMOS[:2]:
        shutil.copytree(path.parent, tmp_path / path.parent.name)
    broken = tmp_path / "demo-any-uplift" / "2024.1.toml"
    broken.write_text(broken.read_text(encoding="utf-8").replace('amount = "240000.00"', 'amount = "240000.10"'),
                      encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_programs(tmp_path)
    assert caught.value.messages == [
        f"{broken}: examples[2]: a new security type does not earn the uplift by accident: "
        "expected amount 240000.10, computed 240000.00"]
