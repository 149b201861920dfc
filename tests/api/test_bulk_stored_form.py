"""A loan registered from a bulk file is stored exactly as the same loan registered alone (both databases)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from sqlmodel import select

from claims.models import Individual, Loan
from tests.api.test_bulk_registration import upload

FIELDS = {"program": "sz-startup-guarantee", "principal": "250000.5", "disbursed_on": "2025-03-01",
          "maturity_on": "2027-02-28", "annual_rate": "0.0385", "security_type": "guaranteed",
          "unsecured_share": "0.25", "first_loan": "true", "policy_tool": "false", "guarantor_code": "GUA_A",
          "guarantee_ratio": "0.80"}


def test_a_bulk_row_reads_back_as_the_same_loan_posted_alone(app, client, callers, db):
    app.extensions["claims"]["today"] = date(2025, 3, 10)
    bank_a = callers["BANK_A"]
    people = [i.resident_id for i in db.exec(select(Individual).order_by(Individual.id))]
    alone = client.post("/loans", json={**FIELDS, "contract_no": "ALONE-1", "resident_id": people[0],
                                        "first_loan": True, "policy_tool": False}, headers=bank_a.headers)
    assert alone.status_code == 201, alone.get_json()
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=[*FIELDS, "contract_no", "resident_id"])
    writer.writeheader()
    writer.writerow({**FIELDS, "contract_no": "BULK-1", "resident_id": people[1]})
    response = upload(client, bank_a, out.getvalue().encode())
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["accepted"], response.get_json()["rejected"]) == (1, 0)

    db.commit()
    single, bulk = (db.exec(select(Loan).where(Loan.contract_no == c)).one() for c in ("ALONE-1", "BULK-1"))
    skip = {"id", "contract_no", "individual_id", "created_at"}
    assert {k: v for k, v in bulk.model_dump().items() if k not in skip} == \
        {k: v for k, v in single.model_dump().items() if k not in skip}
    assert (bulk.principal_fen, bulk.disbursed_on, bulk.guarantee_ratio, bulk.first_loan, bulk.attributes) == \
        (25_000_050, date(2025, 3, 1), "0.80", True, {})
    assert bulk.individual_id is not None and bulk.guarantor_id == single.guarantor_id is not None
    assert isinstance(bulk.created_at, datetime) and abs((bulk.created_at - single.created_at).total_seconds()) < 60
    by_api = client.get(f"/loans/{bulk.id}", headers=bank_a.headers).get_json()
    assert (by_api["principal"], by_api["unsecured_share"], by_api["annual_rate"]) == ("250000.50", "0.25", "0.0385")
