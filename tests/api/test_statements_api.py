"""Statements and jobs over HTTP: an admin runs the period's statements, banks download and verify their own."""
from __future__ import annotations

import hashlib
from datetime import date

import pytest

from reports.periods import parse_period
from tests.api.test_claim_lifecycle import pin_today
from tests.helpers import problem, local_folder
from tests.integration.statement_history import build_history


@pytest.fixture
def issued(app, client, callers, db):
    """Bank A's 2026Q3 history, and the admin's run of period_statements for 2026Q3 on 9 October."""
    history = build_history(app, client, callers, db, parse_period("2026Q3"))
    pin_today(app, date(2026, 10, 9))
    response = client.post("/jobs/period_statements/run", json={"period": "2026Q3"}, headers=callers["admin"].headers)
    assert response.status_code == 200, response.get_json()
    return history, response.get_json()


def test_an_admin_runs_the_statements_job_and_sees_the_run_listed(client, callers, issued):
    _, run = issued
    assert (run["job"], run["trigger"], run["status"]) == ("period_statements", "api", "done")
    assert (run["counts"]["created"], run["counts"]["period"], run["counts"]["today"]) == (2, "2026Q3", "2026-10-09")
    runs = client.get("/jobs/runs?job=period_statements", headers=callers["admin"].headers)
    assert runs.status_code == 200 and [r["id"] for r in runs.get_json()] == [run["id"]]
    assert runs.headers["X-Pagination"]
    again = client.post("/jobs/period_statements/run", json={"period": "2026Q3"}, headers=callers["admin"].headers)
    assert (again.get_json()["counts"]["created"], again.get_json()["counts"]["unchanged"]) == (0, 2)


def test_only_admins_run_jobs_and_bad_names_or_periods_are_refused(client, callers):
    problem(client.post("/jobs/period_statements/run", json={}, headers=callers["BANK_A"].headers), 403,
            "role_required")
    problem(client.post("/jobs/period_statements/run", json={}, headers=callers["auditor1"].headers), 403,
            "role_required")
    problem(client.get("/jobs/runs", headers=callers["reviewer1"].headers), 403, "role_required")
    problem(client.post("/jobs/payday/run", json={}, headers=callers["admin"].headers), 404, "not_found")
    body = problem(client.post("/jobs/period_statements/run", json={"period": "2026Q5"},
                               headers=callers["admin"].headers), 422, "period_invalid")
    assert "2026Q3" in body["detail"]


def test_a_bank_lists_downloads_and_verifies_only_its_own_statements(app, client, callers, issued):
    history, _ = issued
    bank_a, bank_b = callers["BANK_A"], callers["BANK_B"]
    own = client.get("/statements", headers=bank_a.headers).get_json()
    assert [s["number"] for s in own] == ["SZ-SME-POOL-2026Q3-BANK_A-v1"]
    statement = own[0]
    assert statement["totals"] == {"opening": "150000.00", "claims_paid": "25000.00", "subsidies": "0.00",
                                   "rewards": "0.00", "recoveries_returned": "9000.00", "period_net": "16000.00",
                                   "net": "166000.00", "budget_used_ytd": "175000.00",
                                   "budget_annual": "100000000.00", "lines": 2}
    assert client.get("/statements", headers=bank_b.headers).get_json() == []
    staff = client.get("/statements?summary=true", headers=callers["auditor1"].headers).get_json()
    assert [s["number"] for s in staff] == ["SZ-SME-POOL-2026Q3-ALL-v1"]
    problem(client.get(f"/statements/{statement['id']}", headers=bank_b.headers), 404, "not_found")
    problem(client.get(f"/statements/{staff[0]['id']}/pdf", headers=bank_a.headers), 404, "not_found")

    pdf = client.get(f"/statements/{statement['id']}/pdf", headers=bank_a.headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == statement["sha256"] == pdf.headers["Digest-SHA256"]
    assert "SZ-SME-POOL-2026Q3-BANK_A-v1.pdf" in pdf.headers["Content-Disposition"]

    verified = client.get(f"/statements/{statement['id']}/verify", headers=bank_a.headers).get_json()
    signed_at = verified.pop("signed_at")
    assert verified == {"statement_id": statement["id"], "number": statement["number"], "status": "done",
                        "recorded_sha256": statement["sha256"], "actual_sha256": statement["sha256"],
                        "file_intact": True, "content_current": True, "signed": True, "signature_intact": True,
                        "signature_valid": True, "signature_trusted": True, "signature_covers_file": True,
                        "signed_by": "市财政局（演示签章 DEMO）", "signature_summary": "INTACT:TRUSTED,UNTOUCHED",
                        "ok": True}
    assert signed_at.startswith("20")
    stored = local_folder(app, "statements") / "SZ-SME-POOL-2026Q3-BANK_A-v1.pdf"
    stored.write_bytes(stored.read_bytes() + b"%appended after issue\n")
    tampered = client.get(f"/statements/{statement['id']}/verify", headers=bank_a.headers).get_json()
    assert (tampered["file_intact"], tampered["content_current"], tampered["ok"]) == (False, True, False)
    # The signed bytes are untouched, but the signature no longer covers the whole file.
    assert (tampered["signature_intact"], tampered["signature_covers_file"]) == (True, False)
    assert tampered["actual_sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()


def test_a_missing_pdf_is_a_conflict_not_a_crash(app, client, callers, issued):
    statement = client.get("/statements", headers=callers["BANK_A"].headers).get_json()[0]
    (local_folder(app, "statements") / f"{statement['number']}.pdf").unlink()
    problem(client.get(f"/statements/{statement['id']}/pdf", headers=callers["BANK_A"].headers), 409,
            "statement_file_missing")
