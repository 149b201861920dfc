"""Circuit breakers: a bank whose loss ratio passes the threshold is held until an admin lifts it, all audited."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from claims.models import AuditEvent
from tests.api.test_claim_lifecycle import act, firm_on_list, pin_today, register
from tests.helpers import attach_required, problem


def test_a_tripped_breaker_suspends_registrations_until_an_admin_lifts_it(app, client, callers, db):
    bank_c, admin = callers["BANK_C"], callers["admin"]
    pin_today(app, date(2025, 4, 1))
    firm = firm_on_list(db, "ningbo_whitelist", date(2025, 3, 20))
    loan = register(client, bank_c, program="nb-whitelist-pool", contract_no="NB-2025-01", enterprise_uscc=firm.uscc,
                    principal="1000000.00", disbursed_on="2025-03-20", maturity_on="2027-03-19")
    pin_today(app, date(2025, 10, 15))
    client.post(f"/loans/{loan['id']}/status", json={"status": "non_performing", "as_of": "2025-10-15",
                                                      "days_overdue": 120}, headers={**bank_c.headers, "If-Match": '"1"'})
    claim = client.post("/claims", json={"loan_id": loan["id"], "default_on": "2025-06-10",
                                         "outstanding_principal": "800000.00"}, headers=bank_c.headers).get_json()
    # 40 % base + 10 pp unsecured = 50 %: 800,000.00 × 0.50 = 400,000.00.
    assert claim["computed_amount"] == "400000.00"
    claim = attach_required(client, bank_c.headers, claim)
    for caller, action in ((bank_c, "submit"), (callers["reviewer1"], "start_review"), (callers["reviewer1"], "pass"),
                           (callers["approver1"], "approve")):
        claim = act(client, caller, claim, action)
    # Loss ratio 400,000.00 / 1,000,000.00 registered in 2025 = 40 % > 3 %: registrations are suspended.
    admissions = client.get("/programs/nb-whitelist-pool/admissions", headers=bank_c.headers).get_json()
    assert [a["status"] for a in admissions] == ["suspended"]
    refused = client.post("/loans", json={"program": "nb-whitelist-pool", "contract_no": "NB-2025-02",
                                          "enterprise_uscc": firm.uscc, "principal": "300000.00",
                                          "disbursed_on": "2025-10-01", "maturity_on": "2027-09-30"},
                          headers=bank_c.headers)
    body = problem(refused, 422, "loan_ineligible")
    assert body["reasons"][0]["code"] == "not_admitted"

    problem(client.post(f"/programs/nb-whitelist-pool/admissions/{bank_c.institution_id}/lift",
                        json={"reason": "复核后恢复"}, headers=callers["reviewer1"].headers), 403, "role_required")
    lifted = client.post(f"/programs/nb-whitelist-pool/admissions/{bank_c.institution_id}/lift",
                         json={"reason": "经复核，风险处置到位，恢复准入"}, headers=admin.headers)
    assert lifted.status_code == 200 and lifted.get_json()["status"] == "active"
    again = client.post("/loans", json={"program": "nb-whitelist-pool", "contract_no": "NB-2025-02",
                                        "enterprise_uscc": firm.uscc, "principal": "300000.00",
                                        "disbursed_on": "2025-10-01", "maturity_on": "2027-09-30"},
                        headers=bank_c.headers)
    assert again.status_code == 201, again.get_json()
    db.commit()
    actions = [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.entity == "admission")
                                         .order_by(AuditEvent.seq))]
    assert actions[-2:] == ["breaker_tripped", "breaker_lifted"]


def test_claims_submitted_while_deferred_wait_and_resume_when_lifted(app, client, callers, db):
    bank_a, admin = callers["BANK_A"], callers["admin"]
    pin_today(app, date(2026, 2, 1))
    firm = firm_on_list(db, "high_tech", date(2026, 1, 15))
    loan = register(client, bank_a, contract_no="A-DEF-1", enterprise_uscc=firm.uscc, principal="500000.00",
                    disbursed_on="2026-01-15", maturity_on="2027-01-14")
    pin_today(app, date(2026, 9, 1))
    client.post(f"/loans/{loan['id']}/status", json={"status": "overdue", "as_of": "2026-09-01", "days_overdue": 100},
                headers={**bank_a.headers, "If-Match": '"1"'})
    held = client.put(f"/programs/sz-sme-pool/admissions/{bank_a.institution_id}",
                      json={"status": "claims_deferred", "reason": "代偿率超限，暂缓受理"}, headers=admin.headers)
    assert held.status_code == 200
    claim = client.post("/claims", json={"loan_id": loan["id"], "default_on": "2026-05-20",
                                         "outstanding_principal": "500000.00"}, headers=bank_a.headers).get_json()
    claim = attach_required(client, bank_a.headers, claim)
    claim = act(client, bank_a, claim, "submit")
    assert claim["status"] == "deferred"
    problem(client.post(f"/claims/{claim['id']}/transitions", json={"action": "start_review"},
                        headers=callers["reviewer1"].with_(**{"If-Match": f'"{claim["version"]}"'})), 409,
            "illegal_transition")
    client.post(f"/programs/sz-sme-pool/admissions/{bank_a.institution_id}/lift", json={"reason": "恢复受理"},
                headers=admin.headers)
    resumed = client.get(f"/claims/{claim['id']}", headers=bank_a.headers).get_json()
    assert resumed["status"] == "submitted"
    assert [d["action"] for d in resumed["decisions"]] == ["submit", "defer", "resume"]
