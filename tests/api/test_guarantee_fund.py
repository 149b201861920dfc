"""Guarantee-fund compensation (代偿) over HTTP: individual ceilings, a guarantor's claim split 40/30/20/10,
payment, fund breakers, and a recovery split back over the same parties."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from claims.audit import verify_chain
from claims.ledger import trial_balance
from claims.models import Individual
from tests.api.test_claim_lifecycle import act, pin_today
from tests.helpers import attach_required, problem

PROGRAM = "sz-startup-guarantee"


def startup_loan(client, caller, resident_id, contract_no, principal, expect=201, **fields):
    body = {"program": PROGRAM, "contract_no": contract_no, "resident_id": resident_id, "principal": principal,
            "disbursed_on": "2025-03-01", "maturity_on": "2027-02-28", "annual_rate": "0.0385",
            "security_type": "guaranteed", "guarantor_code": "GUA_A", "guarantee_ratio": "0.80", **fields}
    response = client.post("/loans", json=body, headers=caller.headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def test_a_guarantor_claim_splits_four_three_two_one_and_its_recovery_splits_back_the_same_way(app, client, callers,
                                                                                                  db):
    bank_a, gua_a, gua_b = callers["BANK_A"], callers["GUA_A"], callers["GUA_B"]
    people = [i.resident_id for i in db.exec(select(Individual).order_by(Individual.id))]
    pin_today(app, date(2025, 3, 10))
    # Individual ceilings: ¥300k, or ¥600k when the borrower creates at least 5 jobs.
    body = problem(client.post("/loans", json={
        "program": PROGRAM, "contract_no": "SG-X", "resident_id": people[2], "principal": "300000.01",
        "disbursed_on": "2025-03-01", "maturity_on": "2027-02-28", "security_type": "guaranteed",
        "guarantor_code": "GUA_A"}, headers=bank_a.headers), 422, "loan_ineligible")
    assert [(r["code"], r["message"]) for r in body["reasons"]] == [
        ("principal_above_limit", "principal 300000.01 is above the limit 300000.00 (individual)")]
    # A resident ID with a wrong check digit never reaches the program rules.
    bad_id = people[2][:-1] + ("0" if people[2][-1] != "0" else "1")
    assert "resident_id" in problem(client.post("/loans", json={
        "program": PROGRAM, "contract_no": "SG-Y", "resident_id": bad_id, "principal": "1000.00",
        "disbursed_on": "2025-03-01", "maturity_on": "2027-02-28"}, headers=bank_a.headers), 422)["errors"][0]["field"]
    defaulted = startup_loan(client, bank_a, people[0], "SG-2025-001", "300000.00")
    startup_loan(client, bank_a, people[1], "SG-2025-002", "600000.00", attributes={"jobs_created": 5})

    pin_today(app, date(2025, 12, 15))
    reported = client.post(f"/loans/{defaulted['id']}/status", json={"status": "overdue", "as_of": "2025-12-15",
                                                                      "days_overdue": 105}, headers={**bank_a.headers, "If-Match": '"1"'})
    assert reported.status_code == 200
    claim_body = {"loan_id": defaulted["id"], "default_on": "2025-09-01", "outstanding_principal": "180000.00",
                  "unpaid_interest": "2500.03", "interest_days": 90, "days_overdue": 105}
    # A guarantor that does not guarantee the loan cannot see it.
    problem(client.post("/claims", json=claim_body, headers=gua_b.headers), 404, "not_found")
    filed = client.post("/claims", json=claim_body, headers=gua_a.headers)
    assert filed.status_code == 201, filed.get_json()
    claim = filed.get_json()
    assert claim["institution_id"] == gua_a.institution_id
    # Loss = 180,000.00 + 2,500.03 = 182,500.03 (18,250,003 fen). The fund's 40 % = 7,300,001.2 fen, floored
    # to 73,000.01. The other 10,950,002 fen split 3:2:1 = 5,475,001 / 3,650,000.67 / 1,825,000.33; the floors
    # leave 1 fen, which goes to the largest remainder (the bank's .67): 54,750.01 / 36,500.01 / 18,250.00.
    # 73,000.01 + 54,750.01 + 36,500.01 + 18,250.00 = 182,500.03.
    assert claim["shares"] == {"guarantee_fund": "73000.01", "reguarantor": "54750.01", "bank": "36500.01",
                               "district_government": "18250.00"}
    assert (claim["ratio"], claim["computed_amount"]) == ("0.40", "73000.01")

    claim = attach_required(client, gua_a.headers, claim)
    for caller, action in ((gua_a, "submit"), (callers["reviewer1"], "start_review"), (callers["reviewer1"], "pass"),
                           (callers["approver1"], "approve"), (callers["payer1"], "pay")):
        claim = act(client, caller, claim, action)
    assert (claim["status"], claim["paid_amount"]) == ("paid", "73000.01")

    # Fund breakers, measured when the claim was approved:
    #  - GUA_A's payout rate: 73,000.01 paid / 900,000.00 it guarantees in 2025 = 8.1 % > 5 % -> claims deferred;
    #  - BANK_A's overdue rate: 300,000.00 overdue / 900,000.00 outstanding = 33 % > 3 % -> registrations suspended.
    admissions = {a["institution_id"]: a["status"] for a in client.get(
        f"/programs/{PROGRAM}/admissions", headers=callers["admin"].headers).get_json()}
    assert admissions[gua_a.institution_id] == "claims_deferred"
    assert admissions[bank_a.institution_id] == "suspended"
    refused = problem(client.post("/loans", json={
        "program": PROGRAM, "contract_no": "SG-2025-003", "resident_id": people[2], "principal": "100000.00",
        "disbursed_on": "2025-12-01", "maturity_on": "2027-11-30", "guarantor_code": "GUA_A"},
        headers=bank_a.headers), 422, "loan_ineligible")
    assert refused["reasons"][0]["code"] == "not_admitted"

    pin_today(app, date(2026, 1, 20))  # recoveries are dated no later than today
    recovery = client.post(f"/claims/{claim['id']}/recoveries", json={"amount": "60000.01", "costs": "1000.00",
                                                                       "recovered_on": "2026-01-20"},
                           headers=gua_a.headers)
    assert recovery.status_code == 201, recovery.get_json()
    recovery = recovery.get_json()
    # Net 60,000.01 - 1,000.00 = 59,000.01. The fund bore 73,000.01 / 182,500.03 = 0.39999998904...:
    # 5,900,001 fen x that = 2,360,000.34 -> 23,600.00 back to the fund. The rest, 35,400.01, splits 3:2:1 =
    # 17,700.005 / 11,800.003 / 5,900.002 -> floors leave 1 fen for the re-guarantor's .5: 17,700.01 /
    # 11,800.00 / 5,900.00. 23,600.00 + 17,700.01 + 11,800.00 + 5,900.00 = 59,000.01.
    assert recovery["returned"] == "23600.00"
    shares = next(step for step in recovery["trace"] if step["step"] == "party_shares")
    assert shares["value"] == {"guarantee_fund": "23600.00", "reguarantor": "17700.01", "bank": "11800.00",
                               "district_government": "5900.00"}

    budget = {row["year"]: row for row in client.get(f"/programs/{PROGRAM}/budget",
                                                      headers=callers["auditor1"].headers).get_json()}
    assert budget[2025] == {"year": 2025, "budget": "50000000.00", "reserved": "0.00", "paid": "73000.01",
                            "recovered": "23600.00", "available": "49926999.99"}
    db.commit()
    assert trial_balance(db) == 0
    assert verify_chain(db).ok


def test_a_guarantor_cannot_file_on_a_risk_pool_loan_it_guarantees(app, client, callers, db):
    from tests.api.test_claim_lifecycle import firm_on_no_list, register

    bank_a = callers["BANK_A"]
    pin_today(app, date(2026, 2, 1))
    firm = firm_on_no_list(db)[0]
    loan = register(client, bank_a, contract_no="A-G-1", enterprise_uscc=firm.uscc, principal="500000.00",
                    disbursed_on="2026-01-20", maturity_on="2027-01-19", security_type="guaranteed",
                    guarantor_code="GUA_A")
    pin_today(app, date(2026, 9, 30))
    client.post(f"/loans/{loan['id']}/status", json={"status": "overdue", "as_of": "2026-09-30", "days_overdue": 100},
                headers={**bank_a.headers, "If-Match": '"1"'})
    body = {"loan_id": loan["id"], "default_on": "2026-06-15", "outstanding_principal": "400000.00"}
    # Only a guarantee fund lets the guarantor claim; in a risk pool the bank does.
    problem(client.post("/claims", json=body, headers=callers["GUA_A"].headers), 404, "not_found")
    assert client.post("/claims", json=body, headers=bank_a.headers).status_code == 201


def test_interest_beyond_the_day_cap_is_prorated_by_the_days_stated_or_elapsed(app, client, callers, db):
    bank_a, gua_a = callers["BANK_A"], callers["GUA_A"]
    person = db.exec(select(Individual).order_by(Individual.id)).first().resident_id
    pin_today(app, date(2025, 3, 10))
    loan = startup_loan(client, bank_a, person, "SG-2025-101", "300000.00")
    pin_today(app, date(2025, 12, 15))
    assert client.post(f"/loans/{loan['id']}/status", json={"status": "overdue", "as_of": "2025-12-15",
                                                          "days_overdue": 105}, headers={**bank_a.headers, "If-Match": '"1"'}).status_code == 200
    body = {"loan_id": loan["id"], "default_on": "2025-09-01", "outstanding_principal": "100000.00",
            "unpaid_interest": "3000.00", "days_overdue": 105}
    filed = client.post("/claims", json=body, headers=gua_a.headers)
    assert filed.status_code == 201, filed.get_json()
    claim = filed.get_json()
    # No days stated: 2025-09-01 to the filing on 2025-12-15 is 105 days, over the 90-day cap, so
    # 3,000.00 x 90/105 = 2,571.428... -> 2,571.43; loss 102,571.43; the fund's 40 % = 41,028.572 -> 41,028.57.
    interest = next(step for step in claim["trace"] if step["step"] == "interest")
    assert (claim["interest_days"], interest["value"]) == (105, "2571.43")
    assert claim["shares"]["guarantee_fund"] == "41028.57"
    assert claim["computed_amount"] == "41028.57"

    # The guarantor states 60 days instead: within the cap, the whole 3,000.00 counts; 103,000.00 x 0.40.
    corrected = client.patch(f"/claims/{claim['id']}", json={"interest_days": 60}, headers={
        **gua_a.headers, "If-Match": f'"{claim["version"]}"'})
    assert corrected.status_code == 200, corrected.get_json()
    assert (corrected.get_json()["interest_days"], corrected.get_json()["computed_amount"]) == (60, "41200.00")

    # Review recomputes with the stored days: the amount holds through approval.
    claim = corrected.get_json()
    claim = attach_required(client, gua_a.headers, claim)
    for caller, action in ((gua_a, "submit"), (callers["reviewer1"], "start_review"), (callers["reviewer1"], "pass"),
                           (callers["approver1"], "approve")):
        claim = act(client, caller, claim, action)
    assert (claim["status"], claim["approved_amount"]) == ("approved", "41200.00")
