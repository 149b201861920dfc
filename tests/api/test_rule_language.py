"""Rule language v2 over HTTP: the one-file test programs under tests/fixtures/programs, loaded by a server
that reads them as its program directory, each case run to the fen (and the same figures their [[examples]]
carry)."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from claims.models import EnterpriseCategory, ListMembership
from tests.api.test_claim_lifecycle import firm_on_no_list, pin_today
from tests.helpers import problem

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(database_url, tmp_path):
    """The application with the test programs (and the LPR history) as its program directory."""
    from claims.app import create_app
    from claims.db import unit_of_work
    from claims.services import seeding
    from claims.settings import load_settings
    from tests.conftest import _wipe
    from workflows.rules import load_programs

    programs = tmp_path / "programs"
    shutil.copytree(ROOT / "tests" / "fixtures" / "programs", programs)
    shutil.copy(ROOT / "config" / "programs" / "lpr.toml", programs / "lpr.toml")
    settings = load_settings("test").with_overrides(database_url=database_url, data_dir=tmp_path / "var",
                                                    programs_dir=programs)
    application = create_app(settings)
    ext = application.extensions["claims"]
    _wipe(ext["engine"])
    report = seeding.SeedReport()
    with unit_of_work(ext["sessions"]) as session:
        seeding.load_reference_data(session, report)
        seeding.sync_programs(session, load_programs(programs), report)
        seeding.load_demo_access(session, report)
        seeding.load_demo_admissions(session, report)
        seeding.record_seeding(session, report)
    application.config["DEMO_KEYS"] = report.demo_keys
    yield application
    ext["engine"].dispose()


def _register(client, caller, program, **fields):
    body = {"program": program, "security_type": "unsecured", "annual_rate": "0.0450", "disbursed_on": "2024-03-01",
            "maturity_on": "2025-03-01", **fields}
    return client.post("/loans", json=body, headers=caller.headers)


def _registered(client, caller, program, **fields) -> dict:
    response = _register(client, caller, program, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _claim(app, client, caller, loan, outstanding) -> dict:
    pin_today(app, date(2025, 3, 10))
    status = client.post(f"/loans/{loan['id']}/status", json={"status": "non_performing", "as_of": "2025-03-10",
                                                              "days_overdue": 99},
                         headers={**caller.headers, "If-Match": '"1"'})
    assert status.status_code == 200, status.get_json()
    filed = client.post("/claims", json={"loan_id": loan["id"], "default_on": "2024-12-01", "days_overdue": 99,
                                         "outstanding_principal": outstanding}, headers=caller.headers)
    assert filed.status_code == 201, filed.get_json()
    return filed.get_json()


def _put_on_list(db, enterprise, code, valid_from):
    # The data side (program-declared lists stored on publishing) is issue 13's other half; until it lands
    # the list row and the membership are written here.
    if db.get(EnterpriseCategory, code) is None:
        db.add(EnterpriseCategory(code=code, name=code))
    db.add(ListMembership(enterprise_id=enterprise.id, category=code, valid_from=valid_from))
    db.commit()


def test_an_any_uplift_is_counted_once_over_http(app, client, callers, db):
    bank = callers["BANK_A"]
    listed, plain = firm_on_no_list(db)[:2]
    _put_on_list(db, listed, "city_key_firm", date(2023, 6, 1))
    pin_today(app, date(2024, 3, 5))
    both = _registered(client, bank, "demo-any-uplift", contract_no="ANY-1", enterprise_uscc=listed.uscc,
                       principal="1000000.00", security_type="ip_pledge")
    neither = _registered(client, bank, "demo-any-uplift", contract_no="ANY-2", enterprise_uscc=plain.uscc,
                          principal="1000000.00", security_type="insured")
    claim = _claim(app, client, bank, both, "800000.00")
    # On the key list AND an IP pledge: 800,000.00 x (0.30 + 0.10 once) = 320,000.00
    assert (claim["ratio"], claim["computed_amount"]) == ("0.40", "320000.00")
    uplift = next(s for s in claim["trace"] if s["step"] == "uplift:key_firm_or_ip_pledge")
    assert uplift["detail"]["conditions"] == [
        "met: any of [met: on list city_key_firm on 2024-03-01 (disbursement date) | met: security type in ip_pledge]"]
    # Neither: 800,000.00 x 0.30 = 240,000.00
    assert _claim(app, client, bank, neither, "800000.00")["computed_amount"] == "240000.00"


def test_tiers_on_the_unsecured_share_refuse_a_loan_in_no_tier_with_the_gates_label(app, client, callers, db):
    bank = callers["BANK_A"]
    firms = firm_on_no_list(db)
    pin_today(app, date(2024, 3, 5))
    body = problem(_register(client, bank, "demo-unsecured-tiers", contract_no="TIER-1", enterprise_uscc=firms[0].uscc,
                             principal="1000000.00", security_type="mixed", unsecured_share="0.50"), 422)
    assert [(r["code"], r["message"]) for r in body["reasons"]] == [
        ("gate_not_met", "信用贷款占比须超过50%: no tier applies (unsecured_share 0.50)")]
    upper = _registered(client, bank, "demo-unsecured-tiers", contract_no="TIER-2", enterprise_uscc=firms[1].uscc,
                        principal="1000000.00", security_type="mixed", unsecured_share="0.70")
    # exactly 70 % is "70 % or more": 900,000.00 x 0.45 = 405,000.00
    assert _claim(app, client, bank, upper, "900000.00")["computed_amount"] == "405000.00"


def test_a_largest_remainder_split_gives_the_rounding_fen_to_the_largest_remainder(app, client, callers, db):
    bank = callers["BANK_A"]
    pin_today(app, date(2024, 3, 5))
    loan = _registered(client, bank, "demo-largest-remainder", contract_no="LR-1",
                       enterprise_uscc=firm_on_no_list(db)[0].uscc, principal="2000000.00")
    claim = _claim(app, client, bank, loan, "1000000.03")
    # 100,000,003 fen x 0.25 / 0.35 / 0.40 = ...0.75 / ...1.05 / ...1.20: the leftover fen goes to the fund's .75
    assert claim["computed_amount"] == "250000.01"
    assert claim["shares"] == {"guarantee_fund": "250000.01", "bank": "350000.01", "guarantor": "400000.01"}


def test_half_year_and_published_window_subsidies_pro_rate_actual_360(app, client, callers, db):
    bank = callers["BANK_A"]
    pin_today(app, date(2024, 1, 5))
    loan = _registered(client, bank, "demo-any-uplift", contract_no="SUB-1", enterprise_uscc=firm_on_no_list(db)[0].uscc,
                       principal="1000000.00", disbursed_on="2024-01-01", maturity_on="2026-12-31")
    pin_today(app, date(2024, 7, 10))
    half = client.post("/applications", json={"program": "demo-half-year-subsidy", "loan_id": loan["id"],
                                              "period_start": "2024-01-01", "period_end": "2024-06-30",
                                              "basis": "22750.00"}, headers=bank.headers)
    assert half.status_code == 201, half.get_json()
    # 1,000,000.00 x 0.01 x 182 / 360 = 5,055.5556 -> 5,055.56
    assert half.get_json()["computed_amount"] == "5055.56"
    assert any("182 days / 360 (actual/360)" in str(s["detail"]) for s in half.get_json()["trace"])
    pin_today(app, date(2024, 10, 10))
    quarter = problem(client.post("/applications", json={"program": "demo-half-year-subsidy", "loan_id": loan["id"],
                                                          "period_start": "2024-07-01", "period_end": "2024-09-30",
                                                          "basis": "100.00"}, headers=bank.headers), 422)
    assert [(r["code"], r["message"]) for r in quarter["reasons"]] == [
        ("period_misaligned", "2024-09-30 is not the end of a half-year")]

    window = {"program": "demo-window-subsidy", "loan_id": loan["id"], "period_start": "2024-01-01",
              "period_end": "2024-12-31", "basis": "40000.00"}
    pin_today(app, date(2025, 2, 28))
    early = problem(client.post("/applications", json=window, headers=bank.headers), 422, "application_too_early")
    assert early["reasons"][0]["message"] == "applications for this period open on 2025-03-01"
    pin_today(app, date(2025, 3, 1))
    taken = client.post("/applications", json=window, headers=bank.headers)
    assert taken.status_code == 201, taken.get_json()
    # 1,000,000.00 x 0.015 x 366 / 360 = 15,250.00
    assert taken.get_json()["computed_amount"] == "15250.00"
