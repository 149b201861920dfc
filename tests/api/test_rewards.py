"""Small-loan guarantee-insurance rewards over HTTP: the bank's 0.5 % and the insurer's 1 % on the same period's
insured loans, checked against the registrations, and forfeited when filed late."""
from __future__ import annotations

from datetime import date

from claims.ledger import trial_balance
from tests.api.test_claim_lifecycle import firm_on_no_list, pin_today, register
from tests.api.test_subsidies import apply, budget_of, review_and_pay
from tests.helpers import problem

PROGRAM = "sz-loan-insurance-reward"


def test_a_bank_and_an_insurer_are_rewarded_for_the_same_period(app, client, callers, db):
    bank_a, ins_a = callers["BANK_A"], callers["INS_A"]
    firms = firm_on_no_list(db)
    pin_today(app, date(2024, 7, 20))
    for number, (firm, principal) in enumerate(((firms[0], "1234567.89"), (firms[1], "2000000.00")), start=1):
        register(client, bank_a, contract_no=f"INS-2024-{number}", enterprise_uscc=firm.uscc, principal=principal,
                 disbursed_on="2024-07-15", maturity_on="2025-07-14", security_type="insured",
                 attributes={"insurer": "INS_A"})
    # An uninsured loan of the same bank does not count towards the reward.
    register(client, bank_a, contract_no="INS-2024-X", enterprise_uscc=firms[2].uscc, principal="900000.00",
             disbursed_on="2024-07-16", maturity_on="2025-07-15")

    # The program's cadence is a year (application window 90 days after it): both file for 2024 in February.
    pin_today(app, date(2025, 2, 10))
    period = {"program": PROGRAM, "period_start": "2024-01-01", "period_end": "2024-12-31"}
    # Registered insured loans in 2024: 1,234,567.89 + 2,000,000.00 = 3,234,567.89; more cannot be claimed.
    body = problem(client.post("/applications", json={**period, "basis": "3234567.90"}, headers=ins_a.headers),
                   422, "basis_above_registered")
    assert "3234567.89" in body["reasons"][0]["message"]
    bank = apply(client, bank_a, **period, basis="3234567.89")
    insurer = apply(client, ins_a, **period, basis="3234567.89")
    # Bank: 3,234,567.89 issued x 0.5 % = 16,172.83945 -> 16,172.84.
    # Insurer: 3,234,567.89 underwritten x 1 % = 32,345.6789 -> 32,345.68.
    assert (bank["kind"], bank["computed_amount"]) == ("reward", "16172.84")
    assert insurer["computed_amount"] == "32345.68"
    problem(client.post("/applications", json={**period, "basis": "100.00"}, headers=bank_a.headers), 409,
            "application_exists")
    bank = review_and_pay(client, callers, bank, bank_a)
    insurer = review_and_pay(client, callers, insurer, ins_a)
    assert (bank["paid_amount"], insurer["paid_amount"]) == ("16172.84", "32345.68")
    # 16,172.84 + 32,345.68 = 48,518.52 paid from the 2025 reward budget of 30,000,000.00.
    assert budget_of(client, callers, PROGRAM, 2025) == {
        "year": 2025, "budget": "30000000.00", "reserved": "0.00", "paid": "48518.52", "recovered": "0.00",
        "available": "29951481.48"}
    # Each institution sees only its own application.
    assert [a["id"] for a in client.get("/applications", headers=ins_a.headers).get_json()] == [insurer["id"]]
    problem(client.get(f"/applications/{bank['id']}", headers=ins_a.headers), 404, "not_found")
    db.commit()
    assert trial_balance(db) == 0


def test_a_late_reward_filing_is_forfeited(app, client, callers, db):
    pin_today(app, date(2025, 4, 1))
    body = problem(client.post("/applications", json={"program": PROGRAM, "period_start": "2024-01-01",
                                                      "period_end": "2024-12-31", "basis": "0.00"},
                               headers=callers["BANK_B"].headers), 422, "application_late")
    # The window is 90 days after 31 December 2024: 1 January to 31 March 2025.
    assert body["window"] == {"opens": "2025-01-01", "closes": "2025-03-31", "length": "90 days"}
    # A guarantor is not admitted to the reward program at all.
    problem(client.post("/applications", json={"program": PROGRAM, "period_start": "2024-01-01",
                                               "period_end": "2024-12-31", "basis": "0.00"},
                        headers=callers["GUA_A"].headers), 422, "not_admitted")
