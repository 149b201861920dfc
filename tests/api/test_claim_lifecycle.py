"""The product's main path over HTTP: register, default, claim, review, approve within budget, pay, recover."""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlmodel import select

from claims.audit import verify_chain
from claims.ledger import trial_balance
from claims.models import Enterprise, LedgerPosting, ListMembership
from tests.helpers import attach_required, blank_pdf, field_codes, problem

PDF = blank_pdf()


def pin_today(app, day: date) -> None:
    """Set the business date the application sees."""
    app.extensions["claims"]["today"] = day


def firm_on_list(db, category: str, on: date) -> Enterprise:
    """A seeded enterprise that is on the list on the date."""
    rows = db.exec(select(Enterprise, ListMembership).join(ListMembership, ListMembership.enterprise_id == Enterprise.id)
                   .where(ListMembership.category == category)).all()
    for enterprise, membership in rows:
        if membership.valid_from <= on and (membership.valid_to is None or on <= membership.valid_to):
            return enterprise
    raise AssertionError(f"seeds have no firm on {category} on {on}")


def firm_on_no_list(db) -> list[Enterprise]:
    """Seeded enterprises with no list membership at all."""
    listed = set(db.exec(select(ListMembership.enterprise_id)))
    return [e for e in db.exec(select(Enterprise).order_by(Enterprise.id)) if e.id not in listed and not
            (e.industry or "").upper().startswith("K")]


def register(client, caller, **fields):
    body = {"program": "sz-sme-pool", "security_type": "unsecured", "annual_rate": "0.0435", **fields}
    response = client.post("/loans", json=body, headers=caller.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, caller, claim, action, expect=200, **extra):
    response = client.post(f"/claims/{claim['id']}/transitions", json={"action": action, **extra},
                           headers=caller.with_(**{"If-Match": f'"{claim["version"]}"'}))
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def upload(client, caller, claim_id, kind, content=PDF, name="doc.pdf"):
    return client.post(f"/claims/{claim_id}/documents", data={"kind": kind, "file": (io.BytesIO(content), name)},
                       headers=caller.headers, content_type="multipart/form-data")


@pytest.fixture
def three_loans(app, client, callers, db):
    """Bank A registers three loans on 2026-02-01, one to a 专精特新 firm; returns (loans, specialised firm)."""
    pin_today(app, date(2026, 2, 1))
    special = firm_on_list(db, "specialized", date(2026, 1, 20))
    plain = firm_on_no_list(db)
    bank_a = callers["BANK_A"]
    loans = [
        register(client, bank_a, contract_no="A-2026-001", enterprise_uscc=special.uscc, principal="2000000.00",
                 disbursed_on="2026-01-20", maturity_on="2027-01-19"),
        register(client, bank_a, contract_no="A-2026-002", enterprise_uscc=plain[0].uscc, principal="1000000.00",
                 disbursed_on="2026-01-22", maturity_on="2027-01-21"),
        register(client, bank_a, contract_no="A-2026-003", enterprise_uscc=plain[1].uscc, principal="500000.00",
                 disbursed_on="2026-01-25", maturity_on="2026-12-24"),
    ]
    return loans, special


def test_a_claim_goes_from_default_to_payment_and_recovery_with_exact_amounts(app, client, callers, db, three_loans):
    loans, special = three_loans
    bank_a, reviewer, approver, payer = callers["BANK_A"], callers["reviewer1"], callers["approver2"], callers["payer1"]
    pin_today(app, date(2026, 9, 30))
    status = client.post(f"/loans/{loans[0]['id']}/status", json={"status": "non_performing", "as_of": "2026-09-30",
                                                                   "days_overdue": 120}, headers={**bank_a.headers, "If-Match": '"1"'})
    assert status.status_code == 200 and status.get_json()["status"] == "non_performing"

    filed = client.post("/claims", json={"loan_id": loans[0]["id"], "default_on": "2026-06-01",
                                         "outstanding_principal": "1500000.00", "days_overdue": 120,
                                         "classification": "substandard"}, headers=bank_a.headers)
    assert filed.status_code == 201, filed.get_json()
    claim = filed.get_json()
    # Ratio: base 30 % + 10 pp for a listed category (专精特新 on the disbursement date) = 40 %.
    # Gross 1,500,000.00 × 0.40 = 600,000.00; the institution-year cap is 5 % of the 3,500,000.00 that
    # bank A registered in 2026 = 175,000.00, which binds.
    assert claim["ratio"] == "0.40"
    assert claim["computed_amount"] == "175000.00"
    assert filed.headers["ETag"] == f'"{claim["version"]}"'
    assert any(step["step"] == "cap:per_institution_year_share_of_registered" for step in claim["trace"])

    assert upload(client, bank_a, claim["id"], "claim_form").status_code == 201
    claim = attach_required(client, bank_a.headers, claim)
    claim = act(client, bank_a, claim, "submit")
    assert claim["status"] == "submitted"
    claim = act(client, reviewer, claim, "start_review")
    # The reviewer returns it asking for a fuller collection statement: the one on file no longer counts.
    claim = act(client, reviewer, claim, "return", reason="催收情况说明不完整，请补正",
                documents_requested=[{"kind": "collection_statement", "note": "补充电话及上门催收记录"}])
    assert claim["status"] == "returned"
    assert [(i["kinds"], i["source"], i["missing"]) for i in claim["documents"]["missing"]] == [
        (["collection_statement"], "return", 1)]
    assert upload(client, bank_a, claim["id"], "collection_statement").status_code == 201
    claim = act(client, bank_a, claim, "resubmit")
    assert claim["status"] == "first_review"
    claim = act(client, reviewer, claim, "pass")
    assert claim["status"] == "second_review"
    # A different approver approves a reduced amount with a reason.
    claim = act(client, approver, claim, "approve", amount="150000.00", reason="核减：部分担保物尚在处置")
    assert (claim["status"], claim["approved_amount"]) == ("approved", "150000.00")
    claim = act(client, payer, claim, "pay")
    assert (claim["status"], claim["paid_amount"]) == ("paid", "150000.00")
    assert [d["action"] for d in claim["decisions"]] == ["submit", "start_review", "return", "resubmit", "pass",
                                                         "approve", "pay"]

    pin_today(app, date(2026, 11, 2))  # recoveries are dated no later than today
    recovery = client.post(f"/claims/{claim['id']}/recoveries", json={"amount": "100000.00", "costs": "10000.00",
                                                                       "recovered_on": "2026-11-02"},
                           headers=bank_a.headers)
    assert recovery.status_code == 201, recovery.get_json()
    # Net 90,000.00 × the ratio actually paid (150,000.00 / 1,500,000.00 = 0.1) = 9,000.00 owed back.
    assert recovery.get_json()["returned"] == "9000.00"

    budget = client.get("/programs/sz-sme-pool/budget", headers=callers["auditor1"].headers).get_json()
    year = {row["year"]: row for row in budget}[2026]
    assert year == {"year": 2026, "budget": "100000000.00", "reserved": "0.00", "paid": "150000.00",
                    "recovered": "9000.00", "available": "99850000.00"}
    db.commit()  # end the test session's read snapshot so it sees what the requests wrote
    assert trial_balance(db) == 0
    assert verify_chain(db).ok
    kinds = [p.kind for p in db.exec(select(LedgerPosting).order_by(LedgerPosting.id))]
    assert kinds == ["appropriate", "reserve", "pay", "recovery"]


def test_the_first_reviewer_cannot_also_approve(app, client, callers, db, three_loans):
    loans, _ = three_loans
    claim = _claim_in_second_review(app, client, callers, loans[1], reviewer=callers["approver1"])
    body = problem(client.post(f"/claims/{claim['id']}/transitions", json={"action": "approve"},
                               headers=callers["approver1"].with_(**{"If-Match": f'"{claim["version"]}"'})), 403,
                   "four_eyes")
    assert "second reviewer" in body["detail"]


def _claim_in_second_review(app, client, callers, loan, reviewer):
    bank_a = callers["BANK_A"]
    pin_today(app, date(2026, 9, 30))
    client.post(f"/loans/{loan['id']}/status", json={"status": "overdue", "as_of": "2026-09-30", "days_overdue": 95},
                headers={**bank_a.headers, "If-Match": '"1"'})
    claim = client.post("/claims", json={"loan_id": loan["id"], "default_on": "2026-06-20",
                                         "outstanding_principal": "800000.00"}, headers=bank_a.headers).get_json()
    claim = attach_required(client, bank_a.headers, claim)
    claim = act(client, bank_a, claim, "submit")
    # An approver who also holds the reviewer role does first review here.
    with app.app_context():
        from claims.models import User

        session = app.extensions["claims"]["sessions"]()
        user = session.get(User, reviewer.user_id)
        user.roles = "approver,reviewer"
        session.add(user)
        session.commit()
        session.close()
    claim = act(client, reviewer, claim, "start_review")
    return act(client, reviewer, claim, "pass")


def test_another_bank_gets_404_and_stale_etags_get_412(app, client, callers, three_loans):
    loans, _ = three_loans
    bank_a, bank_b = callers["BANK_A"], callers["BANK_B"]
    pin_today(app, date(2026, 9, 30))
    client.post(f"/loans/{loans[2]['id']}/status", json={"status": "overdue", "as_of": "2026-09-30",
                                                          "days_overdue": 100}, headers={**bank_a.headers, "If-Match": '"1"'})
    claim = client.post("/claims", json={"loan_id": loans[2]["id"], "default_on": "2026-06-15",
                                         "outstanding_principal": "400000.00"}, headers=bank_a.headers).get_json()
    problem(client.get(f"/claims/{claim['id']}", headers=bank_b.headers), 404, "not_found")
    problem(client.get(f"/loans/{loans[2]['id']}", headers=bank_b.headers), 404, "not_found")
    problem(client.post(f"/claims/{claim['id']}/transitions", json={"action": "withdraw"},
                        headers=bank_b.with_(**{"If-Match": f'"{claim["version"]}"'})), 404, "not_found")
    claim = attach_required(client, bank_a.headers, claim)
    act(client, bank_a, claim, "submit")
    problem(client.post(f"/claims/{claim['id']}/transitions", json={"action": "withdraw"},
                        headers=bank_a.with_(**{"If-Match": f'"{claim["version"]}"'})), 412, "precondition_failed")
    problem(client.post(f"/claims/{claim['id']}/transitions", json={"action": "withdraw"}, headers=bank_a.headers),
            428, "if_match_required")


def test_an_idempotent_replay_returns_the_same_claim(app, client, callers, three_loans):
    loans, _ = three_loans
    bank_a = callers["BANK_A"]
    pin_today(app, date(2026, 9, 30))
    client.post(f"/loans/{loans[1]['id']}/status", json={"status": "overdue", "as_of": "2026-09-30",
                                                          "days_overdue": 100}, headers={**bank_a.headers, "If-Match": '"1"'})
    body = {"loan_id": loans[1]["id"], "default_on": "2026-06-15", "outstanding_principal": "900000.00"}
    headers = bank_a.with_(**{"Idempotency-Key": "claim-A-2026-002"})
    first = client.post("/claims", json=body, headers=headers)
    second = client.post("/claims", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["ETag"] == first.headers["ETag"]
    problem(client.post("/claims", json={**body, "outstanding_principal": "1.00"}, headers=headers), 422,
            "idempotency_key_reused")


def test_registration_lists_every_failing_reason(app, client, callers, db):
    pin_today(app, date(2026, 9, 30))
    plain = firm_on_no_list(db)[2]
    response = client.post("/loans", json={"program": "sz-sme-pool", "contract_no": "A-BAD-1",
                                           "enterprise_uscc": plain.uscc, "principal": "6000000.00",
                                           "disbursed_on": "2026-01-10", "maturity_on": "2029-01-09"},
                           headers=callers["BANK_A"].headers)
    body = problem(response, 422, "loan_ineligible")
    codes = {r["code"] for r in body["reasons"]}
    assert {"registration_window_closed", "principal_above_limit", "term_too_long"} <= codes


def test_amounts_must_be_exact_strings(app, client, callers, db):
    pin_today(app, date(2026, 2, 1))
    plain = firm_on_no_list(db)[0]
    base = {"program": "sz-sme-pool", "contract_no": "A-X", "enterprise_uscc": plain.uscc,
            "disbursed_on": "2026-01-20", "maturity_on": "2027-01-19"}
    for bad, code in ((100000.5, "amount_not_string"), ("100.005", "amount_too_precise"), ("-5.00", "amount_negative"),
                      ("1e5", "amount_invalid")):
        body = problem(client.post("/loans", json={**base, "principal": bad}, headers=callers["BANK_A"].headers), 422)
        assert field_codes(body) == {"principal": [code]}
