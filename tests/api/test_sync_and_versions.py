"""What a bank's nightly sync leans on: loan ETags with If-Match on status reports, `updated_since` on lists,
and the list of application periods open today."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.api.test_claim_lifecycle import firm_on_no_list, pin_today, register
from tests.helpers import problem


def test_a_loan_status_change_needs_the_loans_etag(app, client, callers, db):
    bank = callers["BANK_A"]
    pin_today(app, date(2026, 2, 1))
    loan = register(client, bank, contract_no="ET-1", enterprise_uscc=firm_on_no_list(db)[0].uscc,
                    principal="500000.00", disbursed_on="2026-01-20", maturity_on="2027-01-19")
    read = client.get(f"/loans/{loan['id']}", headers=bank.headers)
    assert read.headers["ETag"] == '"1"' and read.get_json()["version"] == 1
    report = {"status": "overdue", "as_of": "2026-01-31", "days_overdue": 35}
    problem(client.post(f"/loans/{loan['id']}/status", json=report, headers=bank.headers), 428, "if_match_required")
    # An ETag is a quoted string (RFC 9110): a bare number is not one this API issued.
    problem(client.post(f"/loans/{loan['id']}/status", json=report, headers=bank.with_(**{"If-Match": "1"})), 400,
            "if_match_invalid")
    problem(client.post(f"/loans/{loan['id']}/status", json=report, headers=callers["reviewer1"].with_(
        **{"If-Match": '"7"'})), 403)
    moved = client.post(f"/loans/{loan['id']}/status", json=report, headers=bank.with_(**{"If-Match": '"1"'}))
    assert moved.status_code == 200 and moved.headers["ETag"] == '"2"' and moved.get_json()["status"] == "overdue"
    stale = client.post(f"/loans/{loan['id']}/status", json={**report, "status": "current", "days_overdue": 0},
                        headers=bank.with_(**{"If-Match": '"1"'}))
    problem(stale, 412, "etag_mismatch")
    assert client.get(f"/loans/{loan['id']}", headers=bank.headers).get_json()["status"] == "overdue"


def test_updated_since_returns_only_what_changed(app, client, callers, db):
    bank = callers["BANK_A"]
    pin_today(app, date(2026, 2, 1))
    firms = firm_on_no_list(db)
    first = register(client, bank, contract_no="US-1", enterprise_uscc=firms[0].uscc, principal="500000.00",
                     disbursed_on="2026-01-20", maturity_on="2027-01-19")
    second = register(client, bank, contract_no="US-2", enterprise_uscc=firms[1].uscc, principal="500000.00",
                      disbursed_on="2026-01-20", maturity_on="2027-01-19")
    mark = datetime.now(UTC) + timedelta(milliseconds=5)
    while datetime.now(UTC) <= mark:
        pass
    since = mark.isoformat().replace("+00:00", "Z")
    assert client.get("/loans", query_string={"updated_since": since}, headers=bank.headers).get_json() == []
    client.post(f"/loans/{second['id']}/status", json={"status": "overdue", "as_of": "2026-01-31", "days_overdue": 31},
                headers=bank.with_(**{"If-Match": '"1"'}))
    changed = client.get("/loans", query_string={"updated_since": since}, headers=bank.headers).get_json()
    assert [loan["id"] for loan in changed] == [second["id"]]
    assert changed[0]["updated_at"] >= since.replace("Z", "+00:00")
    everything = client.get("/loans", query_string={"updated_since": "2000-01-01T08:00:00+08:00"},
                            headers=bank.headers).get_json()
    assert {first["id"], second["id"]} <= {loan["id"] for loan in everything}
    for path in ("/claims", "/applications"):
        answer = client.get(path, query_string={"updated_since": since}, headers=bank.headers)
        assert answer.status_code == 200 and answer.get_json() == []
    problem(client.get("/loans", query_string={"updated_since": "yesterday"}, headers=bank.headers), 422)


def test_open_periods_say_which_windows_take_applications(app, client, callers):
    pin_today(app, date(2024, 10, 10))
    periods = client.get("/applications/open-periods", headers=callers["BANK_A"].headers).get_json()
    interest = [p for p in periods if p["program"] == "sz-tech-interest"]
    assert [(p["period_start"], p["period_end"], p["opens"], p["closes"]) for p in interest] == [
        ("2024-07-01", "2024-09-30", "2024-10-01", "2024-10-30")]
    later = client.get("/applications/open-periods", query_string={"on": "2026-03-02"},
                       headers=callers["reviewer1"].headers).get_json()
    assert [(p["program"], p["period_end"]) for p in later] == [("sz-loan-insurance-reward", "2025-12-31")]
    problem(client.get("/applications/open-periods?program=nope", headers=callers["BANK_A"].headers), 404)
