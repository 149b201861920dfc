"""Issued statements are PAdES-signed: pdfsig and pyHanko accept them against the demo CA, one changed byte fails."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
from sqlmodel import select

from claims.audit import chain_head
from claims.models import AuditEvent
from reports.periods import parse_period
from reports.signing import check_signature, trust_roots
from tests.api.test_claim_lifecycle import pin_today
from tests.integration.statement_history import build_history
from tests.helpers import local_folder
from tests.servers import need

Q3 = parse_period("2026Q3")
NUMBER = "SZ-SME-POOL-2026Q3-BANK_A-v1"


def _require(tool: str) -> None:
    # make test installs poppler-utils and libnss3-tools; under CI a missing tool is a failure, not a skip.
    need(tool, shutil.which(tool) is not None)


@pytest.fixture
def issued(app, client, callers, db):
    """Bank A's 2026Q3 statement issued by the job over HTTP; (its row as the API lists it, its file's bytes)."""
    build_history(app, client, callers, db, Q3)
    pin_today(app, date(2026, 10, 9))
    run = client.post("/jobs/period_statements/run", json={"period": "2026Q3"}, headers=callers["admin"].headers)
    assert run.status_code == 200 and run.get_json()["status"] == "done", run.get_json()
    row = client.get("/statements", headers=callers["BANK_A"].headers).get_json()[0]
    path = local_folder(app, "statements") / f"{NUMBER}.pdf"
    return row, path


def _nss_with_demo_ca(tmp_path, ca_pem) -> str:
    _require("certutil")
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "demo-ca", "-t", "CT,C,C", "-i", str(ca_pem)],
                   check=True, capture_output=True)
    return f"sql:{nss}"


def _pdfsig(nss: str, path) -> str:
    _require("pdfsig")
    return subprocess.run(["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True).stdout


def _flip_one_byte(data: bytes) -> bytes:
    # A byte of the document's own Info dictionary (its Creator), well inside the signed range.
    at = data.index(b"claims backend")
    assert at < data.index(b"/ByteRange")  # in the original document, before the signature was appended
    return data[:at] + b"C" + data[at + 1:]


def test_the_issued_statement_validates_with_pdfsig_and_pyhanko_and_one_changed_byte_fails_both(
        client, callers, demo_signing, issued, tmp_path):
    row, path = issued
    data = path.read_bytes()
    nss = _nss_with_demo_ca(tmp_path, demo_signing.ca_pem)
    report = _pdfsig(nss, path)
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Certificate Validation: Certificate is Trusted." in report
    assert "Total document signed" in report and "市财政局（演示签章 DEMO）" in report

    roots = trust_roots(_demo(demo_signing))
    check = check_signature(data, roots)
    assert (check.signed, check.intact, check.valid, check.trusted, check.covers_whole_file) == (True,) * 5
    assert check_signature(data, []).trusted is False  # trust comes from the CA, not from the file itself

    path.write_bytes(_flip_one_byte(data))
    tampered = _pdfsig(nss, path)
    assert "Signature is Valid." not in tampered and "Digest Mismatch" in tampered
    changed = check_signature(path.read_bytes(), roots)
    assert (changed.signed, changed.intact) == (True, False)

    verified = client.get(f"/statements/{row['id']}/verify", headers=callers["BANK_A"].headers).get_json()
    assert (verified["file_intact"], verified["signature_intact"], verified["ok"]) == (False, False, False)


def _demo(creds):
    from reports.signing import Credentials

    return Credentials(creds.p12, creds.password, creds.ca_pem, demo=True)


def test_a_bank_verifies_the_copy_it_was_emailed_and_a_changed_copy_is_not_recognised(client, callers, issued):
    row, path = issued
    data = path.read_bytes()
    bank = callers["BANK_A"]
    held = client.post("/statements/verify", data={"file": (io.BytesIO(data), f"{NUMBER}.pdf")},
                       headers=bank.headers, content_type="multipart/form-data").get_json()
    assert (held["statement_id"], held["number"], held["status"]) == (row["id"], NUMBER, "done")
    assert (held["signature_intact"], held["signature_valid"], held["signature_trusted"]) == (True, True, True)
    changed = client.post("/statements/verify", data={"file": (io.BytesIO(_flip_one_byte(data)), "copy.pdf")},
                          headers=bank.headers, content_type="multipart/form-data").get_json()
    assert (changed["statement_id"], changed["status"], changed["signature_intact"]) == (None, "unknown", False)
    other = client.post("/statements/verify", data={"file": (io.BytesIO(data), "copy.pdf")},
                        headers=callers["BANK_B"].headers, content_type="multipart/form-data").get_json()
    assert other["statement_id"] is None  # another institution's statement is not confirmed to it


def test_the_statement_prints_the_audit_chain_head_at_issue_time(app, db, issued):
    _, path = issued
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    printed = text.split("出具时审计日志链头（SHA-256）：")[1].split()[0]
    assert len(printed) == 64
    event = db.exec(select(AuditEvent).where(AuditEvent.hash == printed)).one()
    # Nothing was audited since the run, so the head printed then is the head now: the history's last event.
    assert printed == chain_head(db).hash and event.seq == max(db.exec(select(AuditEvent.seq)).all())
