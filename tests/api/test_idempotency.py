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


CRASH_AFTER_COMMIT = r"""
import contextlib, os, pathlib, sys
from datetime import date
from claims.api import idempotency
from claims.app import create_app
from claims.settings import load_settings

url, data_dir, path, body, key, api_key = sys.argv[1:]
app = create_app(load_settings("test").with_overrides(database_url=url, data_dir=pathlib.Path(data_dir)))
app.extensions["claims"]["today"] = date(2026, 9, 30)
held = idempotency.held_unit_of_work

@contextlib.contextmanager
def commit_then_die(session):
    with held(session):
        yield session
    os._exit(9)  # committed; the worker dies before a byte of the response is sent

idempotency.held_unit_of_work = commit_then_die
app.test_client().post(path, data=body, headers={"X-API-Key": api_key, "Idempotency-Key": key,
                                                 "Content-Type": "application/json"})
"""


def test_a_recovery_whose_worker_dies_after_commit_is_booked_once_and_the_retry_replays_it(app, client, callers, db,
                                                                                           database_url, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from claims.models import LedgerPosting, Recovery
    from tests.integration.test_concurrency import TODAY, ClaimFactory

    pin_today(app, TODAY)
    claim = ClaimFactory(app, db).claim("paid")
    db.commit()
    path, body = f"/claims/{claim.id}/recoveries", json.dumps({"amount": "20000.00", "recovered_on": "2026-09-29"})
    bank = callers["BANK_A"]
    child = subprocess.run([sys.executable, "-c", CRASH_AFTER_COMMIT, database_url, str(tmp_path / "child"), path, body,
                            "recovery-1", bank.headers["X-API-Key"]], cwd=Path(__file__).resolve().parents[2],
                           capture_output=True, timeout=120)
    assert child.returncode == 9, child.stderr.decode()[-2000:]
    db.commit()
    booked = db.exec(select(Recovery).where(Recovery.claim_id == claim.id)).all()
    assert len(booked) == 1  # the effect is committed ...
    retry = client.post(path, data=body, headers=bank.with_(**{"Idempotency-Key": "recovery-1",
                                                               "Content-Type": "application/json"}))
    # ... and so is its answer: the retry replays it instead of booking the recovery again.
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true", retry.get_json()
    assert retry.get_json()["id"] == booked[0].id
    db.commit()
    assert len(db.exec(select(Recovery).where(Recovery.claim_id == claim.id)).all()) == 1
    assert len(db.exec(select(LedgerPosting).where(LedgerPosting.kind == "recovery")).all()) == 1
    assert db.exec(select(IdempotencyKey).where(IdempotencyKey.state != "done")).all() == []


def test_two_simultaneous_retries_of_an_abandoned_key_run_the_use_case_once(app, callers, db):
    from claims.models import Recovery
    from tests.integration.test_concurrency import TODAY, ClaimFactory, fire_together

    pin_today(app, TODAY)
    claim = ClaimFactory(app, db).claim("paid")
    bank = callers["BANK_A"]
    path, body = f"/claims/{claim.id}/recoveries", {"amount": "20000.00", "recovered_on": "2026-09-29"}
    data = json.dumps(body).encode()
    # A key left in flight five minutes ago by a worker of the earlier design that died mid-request.
    db.add(IdempotencyKey(principal=f"institution:{bank.institution_id}", key="k-orphan", method="POST", path=path,
                          fingerprint=hashlib.sha256(b"POST " + path.encode() + b"\n" + data).hexdigest(),
                          created_at=utcnow() - timedelta(minutes=5)))
    db.commit()
    headers = bank.with_(**{"Idempotency-Key": "k-orphan"})
    responses = fire_together(app, [(path, body, headers), (path, body, headers)])
    statuses = sorted(status for status, _ in responses)
    assert statuses in ([201, 201], [201, 409]), responses
    db.commit()
    assert len(db.exec(select(Recovery).where(Recovery.claim_id == claim.id)).all()) == 1
