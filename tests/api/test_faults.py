"""Faults and hostile files: the database going away, a worker killed mid-transition, oversized uploads,
zip bombs, formula injection in exported CSV and path tricks in file names."""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import psycopg
from sqlmodel import select

from claims import ledger
from claims.audit import verify_chain
from claims.models import Claim, Document, LedgerPosting
from tests.helpers import blank_pdf, problem, local_folder
from tests.integration.test_concurrency import TODAY, ClaimFactory

ROOT = Path(__file__).resolve().parents[2]
PDF = blank_pdf()
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "SELECT", "terminating")


def _no_internals(response) -> None:
    body = response.get_data(as_text=True)
    assert not [marker for marker in LEAKS if marker in body], body


def test_the_database_going_away_mid_request_is_a_503_and_the_next_request_works(app, client, callers, monkeypatch,
                                                                                  database_url):
    from claims.services import programs

    auditor = callers["auditor1"].headers
    engine = app.extensions["claims"]["engine"]
    if engine.dialect.name == "postgresql":
        original = programs.list_programs

        def killed_mid_request(session):
            # Another session terminates this request's backend, as a failover or restart would.
            pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                                 autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            return original(session)

        monkeypatch.setattr(programs, "list_programs", killed_mid_request)
        body = problem(client.get("/programs", headers=auditor), 503, "database_unavailable")
        monkeypatch.setattr(programs, "list_programs", original)
    else:
        # The file vanishes (unmounted volume): new connections cannot open it.
        folder = Path(engine.url.database).parent
        engine.dispose()
        moved = folder.with_name(folder.name + "-away")
        folder.rename(moved)
        try:
            response = client.get("/programs", headers=auditor)
            body = problem(response, 503, "database_unavailable")
        finally:
            moved.rename(folder)
    assert body["detail"] == "The database is not reachable; retry shortly."
    recovered = client.get("/programs", headers=auditor)
    assert recovered.status_code == 200 and {p["code"] for p in recovered.get_json()} >= {"sz-sme-pool"}


def test_a_database_that_refuses_connections_is_a_503_without_internals(app, client, callers):
    from claims.db import make_engine, make_session_factory

    ext = app.extensions["claims"]
    good = (ext["engine"], ext["sessions"])
    refusing = make_engine("postgresql://claims@127.0.0.1:9/claims", pool_pre_ping=False,
                           connect_args={"connect_timeout": 2})
    ext["engine"], ext["sessions"] = refusing, make_session_factory(refusing)
    try:
        response = client.get("/claims", headers=callers["reviewer1"].headers)
        problem(response, 503, "database_unavailable")
        assert response.headers["Retry-After"] == "5"
        _no_internals(response)
        health = client.get("/health")
        problem(health, 503, "database_unavailable")
    finally:
        ext["engine"], ext["sessions"] = good
        refusing.dispose()
    assert client.get("/claims", headers=callers["reviewer1"].headers).status_code == 200


CHILD = r"""
import pathlib, sys, time
from datetime import date
from claims import ledger
from claims.app import create_app
from claims.settings import load_settings

url, data_dir, claim_id, version, token, marker = sys.argv[1:]
app = create_app(load_settings("test").with_overrides(database_url=url, data_dir=pathlib.Path(data_dir)))
app.extensions["claims"]["today"] = date(2026, 9, 30)
reserve = ledger.reserve_budget

def reserve_then_stall(session, **kwargs):
    posting = reserve(session, **kwargs)
    session.flush()
    pathlib.Path(marker).write_text(str(posting.id))
    time.sleep(120)
    return posting

ledger.reserve_budget = reserve_then_stall
app.test_client().post(f"/claims/{claim_id}/transitions", json={"action": "approve"},
                       headers={"Authorization": token, "If-Match": f'"{version}"'})
"""


def test_a_worker_killed_inside_an_approval_leaves_the_claim_as_it_was(app, client, callers, db, database_url,
                                                                       tmp_path):
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("second_review")
    db.commit()
    marker = tmp_path / "reserved"
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, str(tmp_path / "child"), str(claim.id),
                              str(claim.version), callers["approver2"].headers["Authorization"], str(marker)],
                             cwd=ROOT, env={**os.environ, "CLAIMS_ENV": "test"}, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the child never reached the reservation"
        time.sleep(0.05)
    # The reservation is written but not committed: kill the worker there.
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    child.stderr.close()

    db.commit()
    db.expire_all()
    after = db.get(Claim, claim.id)
    assert (after.status, after.version, after.approved_fen) == ("second_review", claim.version, None)
    assert db.exec(select(LedgerPosting).where(LedgerPosting.kind == "reserve")).all() == []
    assert ledger.trial_balance(db) == 0
    assert verify_chain(db).ok
    # Its locks died with it: the next approval goes through at once.
    retried = client.post(f"/claims/{claim.id}/transitions", json={"action": "approve"},
                          headers=callers["approver2"].with_(**{"If-Match": f'"{claim.version}"'}))
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["approved_amount"] == retried.get_json()["computed_amount"]


def test_an_upload_over_the_limit_is_refused_with_413(app, client, callers, db):
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("draft")
    db.commit()
    limit = 64 * 1024
    app.config["MAX_CONTENT_LENGTH"] = limit
    app.extensions["claims"]["settings"] = app.extensions["claims"]["settings"].with_overrides(max_upload_bytes=limit)
    big = PDF + b"0" * (limit + 1)
    response = client.post(f"/claims/{claim.id}/documents", headers=callers["BANK_A"].headers,
                           content_type="multipart/form-data",
                           data={"kind": "claim_form", "file": (io.BytesIO(big), "big.pdf")})
    problem(response, 413, "payload_too_large")
    db.commit()
    assert db.exec(select(Document)).all() == []
    fits = client.post(f"/claims/{claim.id}/documents", headers=callers["BANK_A"].headers,
                       content_type="multipart/form-data",
                       data={"kind": "claim_form", "file": (io.BytesIO(PDF), "small.pdf")})
    assert fits.status_code == 201


def test_a_json_body_over_one_mebibyte_is_refused_before_parsing(client, callers):
    note = "x" * (2**20 + 10)
    response = client.post("/enterprises", json={"uscc": "91440300MA5FXXXXXX", "name": note},
                           headers=callers["admin"].headers)
    problem(response, 413, "payload_too_large")


def _zip_bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * size)
    return buffer.getvalue()


def test_a_zip_bomb_posing_as_xlsx_is_refused_without_being_inflated(client, callers):
    bomb = _zip_bomb(64 * 2**20)
    assert len(bomb) < 200 * 1024
    started = time.monotonic()
    response = client.post("/loans/bulk", headers=callers["BANK_A"].headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(bomb), "loans.xlsx")})
    body = problem(response, 422)
    assert body["code"] in {"xlsx_too_compressed", "xlsx_too_large", "zip_bomb"} or "compress" in body["detail"], body
    assert time.monotonic() - started < 5


def test_formulas_in_uploaded_cells_come_back_neutralised_in_the_csv_report(app, client, callers):
    app.extensions["claims"]["today"] = date(2026, 2, 1)
    rows = "program,contract_no,principal,disbursed_on,maturity_on,security_type\n" \
           "sz-sme-pool,=HYPERLINK(\"http://evil.example\"),abc,2026-01-20,2027-01-19,unsecured\n" \
           "sz-sme-pool,@SUM(A1:A9),-5,2026-01-20,2027-01-19,unsecured\n" \
           "sz-sme-pool,+1+1,100.005,2026-01-20,2027-01-19,unsecured\n"
    upload = client.post("/loans/bulk", headers=callers["BANK_A"].headers, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(rows.encode()), "loans.csv")})
    assert upload.status_code == 200, upload.get_json()
    assert upload.get_json()["rejected"] == 3
    report = client.get(upload.get_json()["report_url"], headers=callers["BANK_A"].headers)
    assert report.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(report.get_data(as_text=True))) for cell in row]
    for formula in ('=HYPERLINK("http://evil.example")', "@SUM(A1:A9)", "+1+1"):
        assert formula not in cells
        assert "'" + formula in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not c[1:].replace(".", "").isdigit())]


def test_path_tricks_in_file_names_are_neutralised(app, client, callers, db, tmp_path):
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("draft")
    db.commit()
    documents_dir = local_folder(app, "documents")
    for name in ("../../../../etc/passwd.pdf", "..\\..\\boot.ini.pdf", "/abs/path.pdf", "evil\x00.pdf.exe",
                 "..", "con:<>|*?.pdf"):
        response = client.post(f"/claims/{claim.id}/documents", headers=callers["BANK_A"].headers,
                               content_type="multipart/form-data",
                               data={"kind": "claim_form", "file": (io.BytesIO(PDF + name.encode()), name)})
        assert response.status_code == 201, (name, response.get_json())
        stored = response.get_json()["filename"]
        assert "/" not in stored and "\\" not in stored and ".." not in stored.replace("...", "")
        assert not any(ord(ch) < 32 for ch in stored), stored
        download = client.get(f"/claims/{claim.id}/documents/{response.get_json()['id']}",
                              headers=callers["BANK_A"].headers)
        assert download.status_code == 200 and download.data.startswith(PDF)
        disposition = download.headers["Content-Disposition"]
        assert "\n" not in disposition and "/" not in disposition.split("filename", 1)[1]
    # A line break in the name cannot smuggle a header: the part is refused as malformed.
    smuggled = client.post(f"/claims/{claim.id}/documents", headers=callers["BANK_A"].headers,
                           content_type="multipart/form-data",
                           data={"kind": "claim_form", "file": (io.BytesIO(PDF), "a.pdf\r\nX-Injected: 1")})
    assert smuggled.status_code in (201, 422) and "X-Injected" not in smuggled.headers
    if smuggled.status_code == 201:
        assert "\n" not in smuggled.get_json()["filename"]
    # Everything landed inside the documents folder, named by hash; nothing escaped it.
    assert not (tmp_path / "etc").exists() and not Path("/etc/passwd.pdf").exists()
    stored_files = [p for p in documents_dir.rglob("*") if p.is_file()]
    assert stored_files and all(len(p.name) == 64 for p in stored_files)
    for trick in ("..%2F..%2Fetc%2Fpasswd", "..", "%2e%2e", "a%00b"):
        response = client.get(f"/loans/bulk/{trick}/report", headers=callers["BANK_A"].headers)
        assert response.status_code == 404, (trick, response.status_code)
        _no_internals(response)


def test_unknown_routes_methods_and_overlong_ids_answer_problem_json(client, callers):
    problem(client.get("/no/such/thing", headers=callers["BANK_A"].headers), 404, "not_found")
    problem(client.delete("/claims", headers=callers["BANK_A"].headers), 405, "method_not_allowed")
    problem(client.get("/claims/99999999999999999999999", headers=callers["BANK_A"].headers), 404, "not_found")
