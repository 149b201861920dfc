"""Maker-checker on rule versions: proposed by one admin, live (or retired) only once a second admin approves."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from claims.models import AuditEvent
from tests.api.test_claim_lifecycle import firm_on_no_list, pin_today
from tests.helpers import problem
from tests.integration.test_rules_live import _next_version

TOML = {"Content-Type": "application/toml"}


def _loan(client, caller, firm, contract: str, disbursed: str, maturity: str):
    return client.post("/loans", json={"program": "sz-sme-pool", "contract_no": contract, "enterprise_uscc": firm.uscc,
                                       "principal": "1000000.00", "disbursed_on": disbursed, "maturity_on": maturity,
                                       "annual_rate": "0.0435"}, headers=caller.headers)


def test_a_version_is_live_only_after_a_second_admin_approves_it_and_retired_only_likewise(app, client, callers, db):
    admin, admin2, bank_a = callers["admin"], callers["admin2"], callers["BANK_A"]
    registry = app.extensions["claims"]["programs"]
    firms = firm_on_no_list(db)
    assert [r.version for r in registry.versions("sz-sme-pool")] == ["2019.1", "2023.1"]
    problem(client.post("/programs/sz-sme-pool/versions", data=_next_version().encode(),
                        headers=callers["approver1"].with_(**TOML)), 403, "role_required")

    first = client.post("/programs/sz-sme-pool/versions", data=_next_version().encode(), headers=admin.with_(**TOML))
    assert (first.status_code, first.get_json()["status"]) == (201, "proposed")
    # The proposal is not live: neither for the registry the jobs read nor for a registration.
    assert [r.version for r in registry.versions("sz-sme-pool")] == ["2019.1", "2023.1"]
    pin_today(app, date(2029, 1, 15))
    body = problem(_loan(client, bank_a, firms[0], "MC-1", "2029-01-10", "2030-01-09"), 422, "loan_ineligible")
    assert body["reasons"][0]["code"] == "no_rule_in_force"
    assert "awaits a second admin's approval" in body["reasons"][0]["message"]

    change = first.get_json()["pending_change_id"]
    problem(client.post(f"/rule-changes/{change}/approve", json={}, headers=admin.headers), 403, "separation_of_duties")
    problem(client.post(f"/rule-changes/{change}/reject", json={"note": "x"}, headers=admin.headers), 403,
            "separation_of_duties")
    rejected = client.post(f"/rule-changes/{change}/reject", json={"note": "比例依据不足"}, headers=admin2.headers)
    assert (rejected.get_json()["status"], rejected.get_json()["version_status"]) == ("rejected", "rejected")
    problem(client.post(f"/rule-changes/{change}/approve", json={}, headers=admin2.headers), 409, "rule_change_decided")

    # Proposed again (the same text may come back after a rejection) and approved by the other admin.
    again = client.post("/programs/sz-sme-pool/versions", data=_next_version().encode(), headers=admin2.with_(**TOML))
    assert (again.status_code, again.get_json()["status"]) == (201, "proposed")
    pending = client.get("/rule-changes?status=pending", headers=callers["auditor1"].headers).get_json()
    assert [(c["program"], c["version"], c["action"], c["proposed_by"]) for c in pending] == [
        ("sz-sme-pool", "2028.11", "publish", f"user:{admin2.user_id}")]
    approved = client.post(f"/rule-changes/{pending[0]['id']}/approve", json={"note": "核对无误"}, headers=admin.headers)
    assert (approved.get_json()["status"], approved.get_json()["version_status"]) == ("approved", "live")
    assert [r.version for r in registry.versions("sz-sme-pool")] == ["2019.1", "2023.1", "2028.11"]
    assert _loan(client, bank_a, firms[0], "MC-1", "2029-01-10", "2030-01-09").status_code == 201
    problem(client.post("/programs/sz-sme-pool/versions", data=_next_version().replace('"0.35"', '"0.36"').encode(),
                        headers=admin.with_(**TOML)), 409, "rule_version_immutable")

    # Retiring needs the same four eyes; a retired version takes no new loans and says so.
    retire = client.post("/programs/sz-sme-pool/versions/2028.11/retire", json={"reason": "政策废止"},
                         headers=admin.headers)
    assert (retire.status_code, retire.get_json()["action"]) == (201, "retire")
    problem(client.post("/programs/sz-sme-pool/versions/2028.11/retire", json={"reason": "again"},
                        headers=admin2.headers), 409, "rule_change_pending")
    problem(client.post(f"/rule-changes/{retire.get_json()['id']}/approve", json={}, headers=admin.headers), 403,
            "separation_of_duties")
    assert _loan(client, bank_a, firms[1], "MC-2", "2029-01-11", "2030-01-10").status_code == 201
    done = client.post(f"/rule-changes/{retire.get_json()['id']}/approve", json={}, headers=admin2.headers)
    assert done.get_json()["version_status"] == "retired"
    assert [r.version for r in registry.versions("sz-sme-pool")] == ["2019.1", "2023.1"]
    body = problem(_loan(client, bank_a, firms[2], "MC-3", "2029-01-12", "2030-01-11"), 422, "loan_ineligible")
    assert "it was retired" in body["reasons"][0]["message"]

    db.commit()
    trail = [(e.actor, e.action) for e in db.exec(select(AuditEvent).where(
        AuditEvent.entity == "rule_version", AuditEvent.entity_id == "sz-sme-pool/2028.11").order_by(AuditEvent.seq))]
    one, two = f"user:{admin.user_id}", f"user:{admin2.user_id}"
    assert trail == [(one, "publish_proposed"), (two, "publish_rejected"), (two, "publish_proposed"),
                     (one, "published"), (one, "retire_proposed"), (two, "retired")]


def test_an_application_governed_program_takes_loans_by_the_day_they_are_registered(app, client, callers, db):
    # sz-tech-interest 2023.1 is chosen by the application date: a loan registered while it is in force is
    # taken (the old lookup by disbursement date refused it), and a later one names the real reason.
    from tests.api.test_subsidies import listed_firms

    bank_a = callers["BANK_A"]
    firm = listed_firms(db, date(2024, 3, 5))[0]
    body = {"program": "sz-tech-interest", "contract_no": "GD-1", "enterprise_uscc": firm.uscc,
            "principal": "1000000.00", "disbursed_on": "2024-03-01", "maturity_on": "2025-02-28",
            "annual_rate": "0.0435"}
    pin_today(app, date(2024, 3, 5))
    loan = client.post("/loans", json=body, headers=bank_a.headers)
    assert loan.status_code == 201, loan.get_json()
    pin_today(app, date(2029, 3, 5))
    refused = problem(client.post("/loans", json={**body, "contract_no": "GD-2", "disbursed_on": "2029-03-01",
                                                  "maturity_on": "2030-02-28"}, headers=bank_a.headers),
                      422, "loan_ineligible")
    assert refused["reasons"][0] == {
        "code": "no_rule_in_force", "field": "program",
        "message": "Program sz-tech-interest has no live version in force for this registration: 2023.1 (in force "
                   "2023-11-01 to 2028-10-31) is chosen by the registration date, which is 2029-03-05."}
