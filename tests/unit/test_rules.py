import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from workflows.compensation import CapUsage, ClaimFacts, EnterpriseFacts, LoanFacts, compute_compensation
from workflows.rules import NoRuleInForce, RuleError, UnknownProgram, load_programs, load_rule

PROGRAMS = Path(__file__).resolve().parents[2] / "config" / "programs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

SEEDED = {
    "sz-sme-pool": "risk_pool",
    "sz-tech-interest": "interest_subsidy",
    "sz-tech-fee": "fee_subsidy",
    "sz-loan-insurance-reward": "reward",
    "sz-startup-guarantee": "guarantee_fund",
    "nb-whitelist-pool": "risk_pool",
    "sc-hitech-zone-pool": "risk_pool",
}


def test_every_seeded_program_loads_cites_a_policy_file_and_marks_assumed_figures(programs):
    assert programs.programs() == sorted(SEEDED)
    for code, kind in SEEDED.items():
        for rule in programs.versions(code):
            assert rule.kind == kind
            assert rule.name
            assert ".txt art." in rule.source or "docs/rules.md" in rule.source
            assert rule.assumed, f"{code} marks no assumed figure"
            assert rule.review_stages and all(s.sla_working_days > 0 for s in rule.review_stages)
            json.dumps(rule.to_dict())
            assert rule.path is not None and rule.path.name == f"{rule.version}.toml"
            assert len(rule.sha256) == 64


def test_rule_for_picks_the_version_in_force_on_the_date(programs):
    assert programs.rule_for("sz-sme-pool", date(2023, 10, 31)).version == "2019.1"
    assert programs.rule_for("sz-sme-pool", date(2023, 11, 1)).version == "2023.1"
    assert programs.rule_for("sz-sme-pool", date(2028, 10, 31)).version == "2023.1"
    with pytest.raises(NoRuleInForce) as caught:
        programs.rule_for("sz-sme-pool", date(2028, 11, 1))
    assert caught.value.code == "no_rule_in_force"
    assert isinstance(caught.value, LookupError)
    with pytest.raises(UnknownProgram):
        programs.rule_for("no-such-program", date(2024, 1, 1))


def test_the_governing_date_decides_which_version_applies(programs):
    # A loan disbursed under the 2019 rules and claimed in 2024 is still governed by its disbursement date.
    rule = programs.rule_governing("sz-sme-pool", {"disbursement": date(2023, 6, 1), "claim": date(2024, 6, 1)})
    assert rule.version == "2019.1"
    assert programs.rule_for("sz-tech-interest", date(2024, 1, 1)).governing_date == "application"


def test_rule_objects_expose_what_the_state_machine_reads(programs):
    rule = programs.rule_for("sz-sme-pool", date(2024, 1, 1))
    assert [(s.name, s.role, s.sla_working_days) for s in rule.review_stages] == [
        ("first_review", "reviewer", 5), ("second_review", "approver", 5), ("payment", "payer", 5)]
    assert rule.settlement_period == "quarter"
    assert rule.annual_budget_fen(2024) == 10_000_000_000
    assert rule.annual_budget_fen(2031) == 10_000_000_000
    assert rule.breaker.metric == "loss_ratio" and rule.breaker.threshold == Decimal("0.05")
    assert rule.breaker.action == "defer_claims"
    assert rule.registration.window.months == 3
    assert rule.claim.window.deadline(date(2024, 8, 31)) == date(2025, 2, 28)
    assert rule.interest_covered is False
    assert programs.rule_for("sz-startup-guarantee", date(2024, 1, 1)).interest_covered is True
    interest = programs.rule_for("sz-tech-interest", date(2024, 1, 1))
    assert (interest.application.cadence, interest.application.window.days) == ("quarter", 30)
    reward = programs.rule_for("sz-loan-insurance-reward", date(2024, 1, 1))
    assert {r.institution_kind: r.rate for r in reward.reward.rates} == {"bank": Decimal("0.005"), "insurer": Decimal("0.01")}


def _copy_with(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    target_dir = tmp_path / source.parent.name
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / source.name
    text = source.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


SME_2023 = PROGRAMS / "sz-sme-pool" / "2023.1.toml"


def test_a_ratio_of_one_and_a_half_fails_naming_file_and_key(tmp_path):
    bad = _copy_with(tmp_path, SME_2023, 'base_ratio = "0.30"', 'base_ratio = "1.5"')
    with pytest.raises(RuleError) as caught:
        load_rule(bad)
    assert str(caught.value) == f"{bad}: compensation.base_ratio: ratio must be between 0 and 1, got 1.5"


def test_every_mistake_in_a_file_is_reported_not_just_the_first(tmp_path):
    bad = _copy_with(tmp_path, SME_2023, 'ceiling = "0.50"', 'ceiling = "0.25"\nceilng = "0.5"')
    bad.write_text(bad.read_text(encoding="utf-8").replace('add = "0.05"', 'add = "-0.05"', 1), encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_rule(bad)
    assert caught.value.messages == [
        f"{bad}: compensation.uplifts[1].add: ratio must be between 0 and 1, got -0.05",
        f"{bad}: compensation.ceilng: unknown key",
        f"{bad}: compensation.ceiling: 0.25 is below base_ratio 0.30",
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('share = "0.30"', 'share = "0.35"', "risk_shares: shares must sum to 1, they sum to 1.05"),
        ('per_loan = "1600000.00"', 'per_loan = 1600000', 'caps.per_loan: must be a yuan amount string like "3000000.00"'),
        ('per_loan = "1600000.00"', 'per_loan = "1600000.001"', "caps.per_loan: must be a yuan amount string"),
        ('ceiling = "0.40"', 'ceiling = "0.30"', "compensation.ceiling: 0.30 is below the program's risk share 0.40"),
        ('threshold = "0.03"', 'threshold = "3"', "breakers[0].threshold: ratio must be between 0 and 1, got 3"),
        ('role = "reviewer"', 'role = "clerk"', "review.stages[0].role: must be one of reviewer, approver, payer, admin"),
        ('name = "first_review"', 'name = "trustee_review"', "review.stages[0].name: must be one of first_review, "
                                                              "second_review, third_review, payment"),
        ('name = "second_review"', 'name = "third_review"', "review.stages: stages run first_review[, second_review"),
        ('[[review.stages]]', '[review]\nseparation_of_duties = ["second_review", "committee"]\n\n[[review.stages]]',
         "review.separation_of_duties: unknown value(s) committee"),
        ('"claim.window.months",', '"claim.window.weeks",', "program.assumed: names 'claim.window.weeks', which is not a key"),
        ('version = "2023.1"', 'version = "2023.2"', "program.version: '2023.2' does not match the file name '2023.1.toml'"),
        ('[budget]', '[budgets]', "budgets: unknown key"),
        ('window = { months = 1 }', 'window = { months = 1, days = 10 }', "registration.window.days: a window needs exactly one"),
    ],
)
def test_validation_names_file_and_key(tmp_path, old, new, message):
    bad = _copy_with(tmp_path, PROGRAMS / "sz-startup-guarantee" / "2023.1.toml", old, new)
    with pytest.raises(RuleError) as caught:
        load_rule(bad)
    assert any(m.startswith(f"{bad}: {message}") for m in caught.value.messages), caught.value.messages


def test_overlapping_bands_are_refused(tmp_path):
    source = FIXTURES / "programs" / "wx-tech-pool" / "2024.1.toml"
    bad = _copy_with(tmp_path, source, 'more_than = "1000000.00"', 'at_least = "1000000.00"')
    with pytest.raises(RuleError) as caught:
        load_rule(bad)
    assert f"{bad}: compensation.bands[1]: overlaps bands[0] (-inf, 1000000.00] yuan" in caught.value.messages


def test_uplift_values_must_match_the_combine_mode(tmp_path):
    source = FIXTURES / "programs" / "wx-tech-pool" / "2024.1.toml"
    bad = _copy_with(tmp_path, source, 'combine = "max"', 'combine = "add"')
    with pytest.raises(RuleError) as caught:
        load_rule(bad)
    assert f"{bad}: compensation.uplifts[0].add: uplifts of a program with combine = \"add\" need `add` (points) and no `ratio`" \
        in caught.value.messages


def test_overlapping_effective_periods_are_refused_naming_both_files(tmp_path):
    for version in ("2019.1", "2023.1"):
        (tmp_path / "sz-sme-pool").mkdir(exist_ok=True)
        shutil.copy(PROGRAMS / "sz-sme-pool" / f"{version}.toml", tmp_path / "sz-sme-pool")
    old = tmp_path / "sz-sme-pool" / "2019.1.toml"
    old.write_text(old.read_text(encoding="utf-8").replace("effective_to = 2023-10-31", "effective_to = 2023-11-01"), encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_programs(tmp_path)
    message = str(caught.value)
    assert "2023.1.toml: program.effective_from: 2023-11-01 overlaps" in message
    assert "2019.1.toml (in force 2019-01-01 to 2023-11-01)" in message


def test_a_new_citys_pool_with_its_own_bands_and_max_uplifts_is_only_a_new_file():
    registry = load_programs(FIXTURES / "programs")
    rule = registry.rule_for("wx-tech-pool", date(2024, 6, 1))
    usage = CapUsage(program_budget_remaining_fen=2_000_000_000)

    def pay(principal_yuan, **facts):
        loan = LoanFacts(principal_fen=principal_yuan * 100, disbursed_on=date(2024, 6, 1), maturity_on=date(2025, 6, 1),
                         enterprise=EnterpriseFacts(memberships=facts.pop("memberships", ())), **facts)
        claim = ClaimFacts(default_on=date(2025, 1, 1), outstanding_principal_fen=principal_yuan * 100)
        return compute_compensation(rule, loan, claim, usage)

    # 1,000,000.00 is in (0, 1m] -> 50 %: 500,000.00
    assert pay(1_000_000).amount_fen == 50_000_000
    # 3,000,000.00 is in (1m, 5m) -> 40 %: 1,200,000.00
    assert pay(3_000_000, security_type="collateral").amount_fen == 120_000_000
    # 5,000,000.00 is in [5m, 10m] -> 30 %; a little giant takes max(30, 60) = 60 %: 3,000,000.00, cut to the 2,000,000.00 per-loan cap
    result = pay(5_000_000, memberships=[("little_giant", date(2023, 1, 1), None)])
    assert (result.ratio, result.amount_fen, result.binding_cap) == (Decimal("0.60"), 200_000_000, "per_loan")
    # first unsecured loan 55 % and little giant 60 %: the highest, 60 %, wins (adding would give 50+55+60)
    both = pay(1_000_000, first_loan=True, memberships=[("little_giant", date(2023, 1, 1), None)])
    assert (both.ratio, both.amount_fen) == (Decimal("0.60"), 60_000_000)
    # a research partner's 80 % is above the 70 % ceiling: 70 % of 1,000,000.00 = 700,000.00
    partner = pay(1_000_000, attributes={"research_partner": True})
    assert (partner.ratio, partner.ceiling_bound, partner.amount_fen) == (Decimal("0.70"), True, 70_000_000)
    assert [s.name for s in rule.review_stages] == ["first_review", "second_review", "payment"]
    # 20 working days after 30 Sep 2024: 8-12 Oct (12th an adjusted Saturday) 5, 14-18 10, 21-25 15, 28-31 19, 1 Nov 20
    assert rule.registration.window.deadline(date(2024, 9, 30)) == date(2024, 11, 1)
