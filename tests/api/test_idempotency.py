"""Idempotency-Key: replay, conflict while in flight, reuse with another body, recovery after a dead worker."""
from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from sqlmodel import select

from claims.models import IdempotencyKey, Loan
from claims.models.base import utcnow
from tests.api.test_claim_lifecycle import firm_on_no_list, pin_today
from tests.helpers import problem


def _loan_body(db, contract_no="IDEM-1"):
    firm = firm_on_no_list(db)[3]
    return {"program": "sz-sme-pool", "contract_no": contract_no, "enterprise_uscc": firm.uscc,
            "principal": "800000.00", "disbursed_on": "2026-01-20", "maturity_on": "2027-01-19"}


def _claim_key(db, caller, key, body, *, age: timedelta):
    data = json.dumps(body).encode()
    fingerprint = hashlib.sha256(b"POST /loans\n" + data).hexdigest()
    db.add(IdempotencyKey(principal=f"institution:{caller.institution_id}", key=key, method="POST", path="/loans",
                          fingerprint=fingerprint, created_at=utcnow() - age))
    db.commit()
    return data


def test_a_retry_while_the_first_is_running_gets_409(app, client, callers, db):
    pin_today(app, date(2026, 2, 1))
    bank = callers["BANK_A"]
    data = _claim_key(db, bank, "k-running", _loan_body(db), age=timedelta(seconds=1))
    response = client.post("/loans", data=data, headers=bank.with_(**{"Idempotency-Key": "k-running",
                                                                        "Content-Type": "application/json"}))
    problem(response, 409, "idempotency_in_flight")


def test_a_key_abandoned_by_a_dead_worker_is_taken_over(app, client, callers, db):
    pin_today(app, date(2026, 2, 1))
    bank = callers["BANK_A"]
    data = _claim_key(db, bank, "k-dead", _loan_body(db), age=timedelta(minutes=5))
    response = client.post("/loans", data=data, headers=bank.with_(**{"Idempotency-Key": "k-dead",
                                                                        "Content-Type": "application/json"}))
    assert response.status_code == 201, response.get_json()
    again = client.post("/loans", data=data, headers=bank.with_(**{"Idempotency-Key": "k-dead",
                                                                     "Content-Type": "application/json"}))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    db.commit()
    assert len(db.exec(select(Loan).where(Loan.contract_no == "IDEM-1")).all()) == 1


def test_a_failed_request_frees_its_key_for_the_corrected_one(app, client, callers, db):
    pin_today(app, date(2026, 2, 1))
    bank = callers["BANK_A"]
    body = _loan_body(db, "IDEM-2")
    headers = bank.with_(**{"Idempotency-Key": "k-fix"})
    problem(client.post("/loans", json={**body, "principal": "9000000.00"}, headers=headers), 422, "loan_ineligible")
    assert client.post("/loans", json=body, headers=headers).status_code == 201


def test_keys_are_per_institution(app, client, callers, db):
    pin_today(app, date(2026, 2, 1))
    body = _loan_body(db, "IDEM-3")
    first = client.post("/loans", json=body, headers=callers["BANK_A"].with_(**{"Idempotency-Key": "shared"}))
    other_firm = firm_on_no_list(db)[4]
    second = client.post("/loans", json={**body, "enterprise_uscc": other_firm.uscc},
                         headers=callers["BANK_B"].with_(**{"Idempotency-Key": "shared"}))
    assert first.status_code == second.status_code == 201
    assert first.get_json()["institution_id"] != second.get_json()["institution_id"]
