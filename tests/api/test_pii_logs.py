"""Logs and echoed errors carry no USCC or resident id in clear; one structured line per request."""
from __future__ import annotations

import json
import logging

from claims.logs import install_logging, mask_identifiers
from tests.api.conftest import identifiers_in_clear
from tests.helpers import problem

USCC = "91440305MA1UPTX283"  # a seeded firm (seeds/enterprises.csv)
RESIDENT = "440305199003079975"  # a seeded individual (seeds/individuals.csv)


def test_identifiers_in_query_strings_and_bodies_leave_no_trace_in_the_log(client, callers, log_without_identifiers):
    bank = callers["BANK_A"].headers
    assert client.get(f"/enterprises?q={USCC}", headers=bank).status_code == 200
    assert client.get(f"/loans?enterprise_uscc={USCC}", headers=bank).status_code == 200
    # Invalid ones are echoed in the error: masked there too.
    bad_uscc, bad_resident = USCC[:-1] + ("0" if USCC[-1] != "0" else "1"), RESIDENT[:-1] + "0"
    response = client.post("/loans", headers=bank, json={
        "program": "sz-sme-pool", "contract_no": "PII-1", "enterprise_uscc": bad_uscc, "resident_id": bad_resident,
        "principal": "100000.00", "disbursed_on": "2026-01-05", "maturity_on": "2026-12-31"})
    body = problem(response, 422)
    text = response.get_data(as_text=True)
    assert {error["field"] for error in body["errors"]} == {"enterprise_uscc", "resident_id"}
    assert bad_uscc not in text and bad_resident not in text
    # An identifier where an id belongs: the problem echoes the path, masked.
    assert problem(client.get(f"/enterprises/{USCC}", headers=bank), 404)["instance"] == "/enterprises/914403********X283"
    lines = log_without_identifiers.lines
    requests = [json.loads(line.split(" ", 2)[2]) for line in lines if " claims.request " in line]
    assert [r["route"] for r in requests] == ["/enterprises", "/loans", "/loans", "/enterprises/914403********X283"]
    assert [r["status"] for r in requests] == [200, 200, 422, 404]
    first = requests[0]
    assert first["principal"].startswith("institution:") and len(first["request_id"]) >= 16
    assert first["method"] == "GET" and isinstance(first["duration_ms"], float)
    assert not identifiers_in_clear("\n".join(lines))


def test_every_log_record_is_masked_whoever_logs_it(log_without_identifiers):
    install_logging()  # what create_app does; idempotent
    logging.getLogger("werkzeug").warning('127.0.0.1 - - "GET /enterprises?q=%s&id=%s HTTP/1.1" 200 -',
                                          USCC, RESIDENT)
    logging.getLogger("anything").error("resident %s", RESIDENT)
    lines = "\n".join(log_without_identifiers.lines)
    assert "q=914403********X283&id=440305********9975" in lines
    assert not identifiers_in_clear(lines)
    assert mask_identifiers("sha 3d66a01cc42c06eb1073d3d89d133d5e") == "sha 3d66a01cc42c06eb1073d3d89d133d5e"
