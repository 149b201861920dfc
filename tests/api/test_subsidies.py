"""Interest and guarantee-fee subsidies over HTTP: window, LPR ceilings, first-loan share, per-firm caps across
programs, refusals with reason codes, the budget, the LPR history and publishing a rule version."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from claims import ledger
from claims.db import unit_of_work
from claims.ledger import trial_balance
from claims.models import Enterprise, ListMembership
from claims.settings import ROOT
from tests.api.test_claim_lifecycle import firm_on_no_list, pin_today, register
from tests.helpers import attach_required, problem

REVIEW = (("reviewer1", "start_review"), ("reviewer1", "pass"), ("approver1", "approve"), ("payer1", "pay"))


def listed_firms(db, on: date) -> list[Enterprise]:
    """Seeded firms on the high-tech list on the date, by id."""
    rows = db.exec(select(Enterprise, ListMembership).join(ListMembership, ListMembership.enterprise_id == Enterprise.id)
                   .where(ListMembership.category == "high_tech").order_by(Enterprise.id)).all()
    return [e for e, m in rows if m.valid_from <= on and (m.valid_to is None or on <= m.valid_to)]


def apply(client, caller, expect=201, **fields):
    response = client.post("/applications", json=fields, headers=caller.headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def step(client, caller, application, action, expect=200, **extra):
    response = client.post(f"/applications/{application['id']}/transitions", json={"action": action, **extra},
                           headers=caller.with_(**{"If-Match": f'"{application["version"]}"'}))
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def review_and_pay(client, callers, application, applicant):
    application = attach_required(client, applicant.headers, application, "applications")
    application = step(client, applicant, application, "submit")
    for who, action in REVIEW:
        application = step(client, callers[who], application, action)
    return application


def budget_of(client, callers, program, year):
    rows = client.get(f"/programs/{program}/budget", headers=callers["auditor1"].headers).get_json()
    return {row["year"]: row for row in rows}[year]


def first_loan_interest_application(app, client, callers, db) -> tuple[Enterprise, dict]:
    """Bank A's listed firm on a first loan at 6 %, applying for 2024Q3's interest of 30,163.93 (a draft)."""
    firm = listed_firms(db, date(2024, 10, 10))[0]
    pin_today(app, date(2024, 3, 20))
    loan = register(client, callers["BANK_A"], contract_no="TI-2024-01", enterprise_uscc=firm.uscc,
                    principal="2000000.00", disbursed_on="2024-03-15", maturity_on="2025-03-14",
                    annual_rate="0.0600", first_loan=True)
    pin_today(app, date(2024, 10, 10))
    return firm, apply(client, callers["BANK_A"], program="sz-tech-interest", loan_id=loan["id"],
                       period_start="2024-07-01", period_end="2024-09-30", basis="30163.93")


def test_a_first_loan_gets_seventy_percent_of_interest_up_to_lpr_plus_150bp(app, client, callers, db):
    bank_a = callers["BANK_A"]
    _, application = first_loan_interest_application(app, client, callers, db)
    # The period crosses the LPR change of 2024-07-22 (3.45 % -> 3.35 %), but sz-tech-interest fixes the LPR at
    # disbursement (lpr_fixing = "disbursement"): 1y LPR on 2024-03-15 = 3.45 %, ceiling 3.45 + 1.50 = 4.95 %.
    # Interest counts up to 4.95 / 6.00 = 0.825 of what was paid: 30,163.93 x 0.825 = 24,885.24225; the first
    # loan's share 70 %: 17,419.669575 -> 17,419.67.
    assert application["computed_amount"] == "17419.67"
    segments = [s for s in application["trace"] if s["step"] == "segment"]
    assert [(s["detail"]["lpr"], s["detail"]["rate_ceiling"]) for s in segments] == [("0.0345", "0.0495")]
    assert application["available_actions"] == ["submit", "withdraw"]
    application = review_and_pay(client, callers, application, bank_a)
    assert (application["status"], application["approved_amount"], application["paid_amount"]) == \
        ("paid", "17419.67", "17419.67")
    assert [d["action"] for d in application["decisions"]] == ["submit", "start_review", "pass", "approve", "pay"]
    assert budget_of(client, callers, "sz-tech-interest", 2024)["paid"] == "17419.67"
    db.commit()
    assert trial_balance(db) == 0


def test_a_published_daily_lpr_version_splits_the_period_at_a_new_fixing(app, client, callers, db):
    admin, bank_a = callers["admin"], callers["BANK_A"]
    shipped = (ROOT / "config/programs/sz-tech-interest/2023.1.toml").read_text(encoding="utf-8")
    later = (shipped.replace('version = "2023.1"', 'version = "2028.11"')
             .replace("effective_from = 2023-11-01", "effective_from = 2028-11-01")
             .replace("effective_to = 2028-10-31", "effective_to = 2033-10-31")
             .replace('lpr_fixing = "disbursement"', 'lpr_fixing = "daily"'))
    # The seeded list memberships end before 2029; this version drops the list condition, and the shipped
    # file's worked examples (dated 2024, outside the new version) with it.
    later = later.split("# Worked examples")[0]
    later = "\n".join(line for line in later.splitlines() if not line.startswith("lists_any"))
    toml = {"Content-Type": "application/toml"}
    overlapping = later.replace("effective_from = 2028-11-01", "effective_from = 2028-10-01")
    body = problem(client.post("/programs/sz-tech-interest/versions", data=overlapping.encode(),
                               headers=admin.with_(**toml)), 422, "rule_version_overlaps")
    assert "2023.1" in body["detail"]
    problem(client.post("/programs/sz-tech-interest/versions", data=b"[program]\ncode = 1\n",
                        headers=admin.with_(**toml)), 422, "rule_invalid")
    problem(client.post("/programs/sz-tech-interest/versions", data=later.encode(),
                        headers=callers["reviewer1"].with_(**toml)), 403, "role_required")
    published = client.post("/programs/sz-tech-interest/versions", data=later.encode(), headers=admin.with_(**toml))
    assert published.status_code == 201, published.get_json()
    assert (published.get_json()["effective_from"], published.get_json()["status"]) == ("2028-11-01", "proposed")
    # Maker-checker: the proposer cannot approve it; a second admin does, and only then is it live.
    change = published.get_json()["pending_change_id"]
    problem(client.post(f"/rule-changes/{change}/approve", json={}, headers=admin.headers), 403,
            "separation_of_duties")
    approved = client.post(f"/rule-changes/{change}/approve", json={"note": "checked"},
                           headers=callers["admin2"].headers)
    assert (approved.status_code, approved.get_json()["version_status"]) == (200, "live"), approved.get_json()

    # The 2029-02-20 fixing: 1y 2.90 %. The history before the latest fixing cannot be rewritten.
    fixing = {"effective_on": "2029-02-20", "one_year": "0.0290", "five_year": "0.0340", "source": "NIFC"}
    problem(client.post("/lpr", json=fixing, headers=callers["reviewer1"].headers), 403, "role_required")
    assert client.post("/lpr", json=fixing, headers=admin.headers).status_code == 201
    problem(client.post("/lpr", json={**fixing, "effective_on": "2029-01-20"}, headers=admin.headers), 409,
            "lpr_history_fixed")
    history = client.get("/lpr", headers=bank_a.headers).get_json()
    assert [(f["effective_on"], f["one_year"]) for f in history[-2:]] == [("2025-05-20", "0.0300"),
                                                                          ("2029-02-20", "0.0290")]

    pin_today(app, date(2028, 10, 25))
    firm = firm_on_no_list(db)[0]
    loan = register(client, bank_a, contract_no="TI-2028-01", enterprise_uscc=firm.uscc, principal="1000000.00",
                    disbursed_on="2028-10-20", maturity_on="2029-10-19", annual_rate="0.0500", first_loan=True)
    pin_today(app, date(2029, 4, 10))
    application = apply(client, bank_a, program="sz-tech-interest", loan_id=loan["id"], period_start="2029-01-01",
                        period_end="2029-03-31", basis="9000.00")
    # Q1 2029 = 90 days: 1 Jan - 19 Feb (50 days) at LPR 3.00 % (ceiling 4.50 %), 20 Feb - 31 Mar (40 days) at
    # 2.90 % (ceiling 4.40 %); the loan's 5.00 % counts up to the ceiling:
    # 9,000.00 x (50/90 x 4.50/5.00 + 40/90 x 4.40/5.00) = 5,000.00 x 0.90 + 4,000.00 x 0.88 = 8,020.00;
    # first loan 70 %: 5,614.00.
    assert application["computed_amount"] == "5614.00"
    segments = [s["detail"] for s in application["trace"] if s["step"] == "segment"]
    assert [(s["from"], s["to"], s["rate_ceiling"]) for s in segments] == [
        ("2029-01-01", "2029-02-19", "0.0450"), ("2029-02-20", "2029-03-31", "0.0440")]
    assert application["trace"][0]["value"] == "sz-tech-interest@2028.11"

    # Once referenced, the version cannot change; publishing the same text again is a no-op.
    again = client.post("/programs/sz-tech-interest/versions", data=later.encode(), headers=admin.with_(**toml))
    assert again.status_code == 200
    problem(client.post("/programs/sz-tech-interest/versions", data=later.replace('share = "0.50"', 'share = "0.60"')
                        .encode(), headers=admin.with_(**toml)), 409, "rule_version_immutable")


def test_a_guarantee_fee_subsidy_stops_at_the_firms_annual_cap_across_two_programs(app, client, callers, db):
    bank_a, gua_a = callers["BANK_A"], callers["GUA_A"]
    firm = listed_firms(db, date(2024, 4, 10))[1]
    pin_today(app, date(2024, 1, 20))
    loan = register(client, bank_a, contract_no="TF-2024-01", enterprise_uscc=firm.uscc, principal="5000000.00",
                    disbursed_on="2024-01-10", maturity_on="2025-01-09", annual_rate="0.0450",
                    security_type="guaranteed", guarantor_code="GUA_A")
    pin_today(app, date(2024, 4, 10))
    # The guarantor applies for the guarantee-fee subsidy on the loan it guarantees (贴保):
    # 500,000.00 x 50 % = 250,000.00, within the 300,000.00 a year for guarantee fees.
    fee = apply(client, gua_a, program="sz-tech-fee", loan_id=loan["id"], fee_kind="guarantee_fee",
                period_start="2024-01-01", period_end="2024-03-31", basis="500000.00")
    assert fee["computed_amount"] == "250000.00"
    fee = attach_required(client, gua_a.headers, fee, "applications")
    fee = step(client, gua_a, fee, "submit")
    # The bank's interest subsidy in the other program (贴息), approved and paid first. Amounts are chosen to
    # reach the cap: 1y LPR at disbursement (2024-01-10) 3.45 %, ceiling 4.95 % > 4.50 %, so all interest
    # counts: 1,560,000.00 x 50 % = 780,000.00.
    interest = apply(client, bank_a, program="sz-tech-interest", loan_id=loan["id"], period_start="2024-01-10",
                     period_end="2024-03-31", basis="1560000.00")
    assert interest["computed_amount"] == "780000.00"
    assert review_and_pay(client, callers, interest, bank_a)["paid_amount"] == "780000.00"

    fee = step(client, callers["reviewer1"], fee, "start_review")
    fee = step(client, callers["reviewer1"], fee, "pass")
    # The approval recomputes: the firm may get 1,000,000.00 a year from all subsidies and already has
    # 780,000.00, so 220,000.00 is left; the fee subsidy stops there.
    assert fee["computed_amount"] == "220000.00"
    cap = next(s for s in fee["trace"] if s["step"] == "cap:per_firm_year_all_subsidies")
    assert (cap["value"], cap["detail"]["used"], cap["detail"]["bound"]) == ("220000.00", "780000.00", True)
    problem(client.post(f"/applications/{fee['id']}/transitions", json={"action": "approve", "amount": "250000.00",
                                                                         "reason": "按申报金额"},
                        headers=callers["approver1"].with_(**{"If-Match": f'"{fee["version"]}"'})), 422,
            "amount_above_computed")
    fee = step(client, callers["approver1"], fee, "approve")
    fee = step(client, callers["payer1"], fee, "pay")
    assert (fee["approved_amount"], fee["paid_amount"]) == ("220000.00", "220000.00")
    # 780,000.00 + 220,000.00 = 1,000,000.00: a later fee application for the firm this year computes nothing.
    later = apply(client, gua_a, program="sz-tech-fee", loan_id=loan["id"], fee_kind="insurance_premium",
                  period_start="2024-01-01", period_end="2024-03-31", basis="10000.00")
    assert later["computed_amount"] == "0.00"


def test_a_late_application_is_refused_naming_the_window(app, client, callers, db):
    bank_a = callers["BANK_A"]
    firm = listed_firms(db, date(2024, 5, 6))[2]
    pin_today(app, date(2024, 1, 20))
    loan = register(client, bank_a, contract_no="TL-2024-01", enterprise_uscc=firm.uscc, principal="1000000.00",
                    disbursed_on="2024-01-10", maturity_on="2025-01-09", annual_rate="0.0400")
    pin_today(app, date(2024, 5, 6))
    body = problem(client.post("/applications", json={"program": "sz-tech-interest", "loan_id": loan["id"],
                                                      "period_start": "2024-01-10", "period_end": "2024-03-31",
                                                      "basis": "9000.00"}, headers=bank_a.headers),
                   422, "application_late")
    # Q1 applications open the day after the quarter ends and close 30 days later.
    assert body["window"] == {"opens": "2024-04-01", "closes": "2024-04-30", "length": "30 days"}
    assert "2024-04-01 to 2024-04-30" in body["detail"]
    # A quarter that does not end a quarter is refused as well.
    problem(client.post("/applications", json={"program": "sz-tech-interest", "loan_id": loan["id"],
                                               "period_start": "2024-03-01", "period_end": "2024-04-30",
                                               "basis": "9000.00"}, headers=bank_a.headers), 422, "period_misaligned")


def test_no_subsidy_is_filed_for_an_overdue_loan(app, client, callers, db):
    bank_a = callers["BANK_A"]
    firm = listed_firms(db, date(2024, 10, 8))[3]
    pin_today(app, date(2024, 1, 20))
    loan = register(client, bank_a, contract_no="TO-2024-01", enterprise_uscc=firm.uscc, principal="1000000.00",
                    disbursed_on="2024-01-10", maturity_on="2025-01-09", annual_rate="0.0400")
    pin_today(app, date(2024, 10, 8))
    client.post(f"/loans/{loan['id']}/status", json={"status": "overdue", "as_of": "2024-10-01", "days_overdue": 31},
                headers={**bank_a.headers, "If-Match": '"1"'})
    body = problem(client.post("/applications", json={"program": "sz-tech-interest", "loan_id": loan["id"],
                                                      "period_start": "2024-07-01", "period_end": "2024-09-30",
                                                      "basis": "10000.00"}, headers=bank_a.headers),
                   422, "loan_not_current")
    assert body["reasons"] == [{"code": "loan_not_current", "message": "no subsidy on overdue or extended loans",
                                "field": "loan"}]


def test_an_exhausted_budget_caps_the_approval_as_for_claims(app, client, callers, db):
    bank_a, gua_a = callers["BANK_A"], callers["GUA_A"]
    with unit_of_work(app.extensions["claims"]["sessions"]) as session:
        ledger.lock_budget(session, program_code="sz-tech-fee", year=2024, budget_fen=10_000_000)  # 100,000.00
    firm = listed_firms(db, date(2024, 4, 10))[4]
    pin_today(app, date(2024, 1, 20))
    loan = register(client, bank_a, contract_no="TB-2024-01", enterprise_uscc=firm.uscc, principal="3000000.00",
                    disbursed_on="2024-01-10", maturity_on="2025-01-09", annual_rate="0.0400",
                    security_type="guaranteed", guarantor_code="GUA_A")
    pin_today(app, date(2024, 4, 10))
    # Each: 160,000.00 x 50 % = 80,000.00.
    first, second = (apply(client, gua_a, program="sz-tech-fee", loan_id=loan["id"], fee_kind=kind,
                           period_start="2024-01-01", period_end="2024-03-31", basis="160000.00")
                     for kind in ("guarantee_fee", "insurance_premium"))
    assert first["computed_amount"] == second["computed_amount"] == "80000.00"
    moved = []
    for application in (first, second):
        application = attach_required(client, gua_a.headers, application, "applications")
        application = step(client, gua_a, application, "submit")
        application = step(client, callers["reviewer1"], application, "start_review")
        moved.append(step(client, callers["reviewer1"], application, "pass"))
    first, second = moved
    assert step(client, callers["approver1"], first, "approve")["approved_amount"] == "80000.00"
    # 100,000.00 - 80,000.00 = 20,000.00 left: the approval the approver saw at 80,000.00 is refused, never
    # silently cut; the approver then approves what the budget still holds, explicitly and with a reason.
    problem(client.post(f"/applications/{second['id']}/transitions", json={"action": "approve"},
                        headers=callers["approver1"].with_(**{"If-Match": '"1"'})), 412, "precondition_failed")
    refused = step(client, callers["approver1"], second, "approve", expect=422)
    assert (refused["code"], refused["available"], refused["requested"]) == ("budget_exceeded", "20000.00", "80000.00")
    approved = step(client, callers["approver1"], second, "approve", amount="20000.00", reason="预算余额不足，按余额核定")
    assert approved["approved_amount"] == "20000.00"
    assert next(s for s in approved["trace"] if s["step"] == "cap:program_budget")["detail"]["bound"] is True
    assert budget_of(client, callers, "sz-tech-fee", 2024) == {
        "year": 2024, "budget": "100000.00", "reserved": "100000.00", "paid": "0.00", "recovered": "0.00",
        "available": "0.00"}
    # Revoking one approval gives its reservation back.
    revoked = step(client, callers["approver2"], approved, "revoke", reason="材料不实，撤销批准")
    assert revoked["status"] == "rejected"
    assert budget_of(client, callers, "sz-tech-fee", 2024)["available"] == "20000.00"
    db.commit()
    assert trial_balance(db) == 0
