"""A bank's nightly flow and the bureau's review, through a Python client generated from the live /openapi.json.

openapi-python-client (pinned in the test extras) must generate the client with exit 0 and no warning; then the
flow runs over real HTTP against a served instance: register a loan, bulk upload, report default, file a claim,
attach a PDF, submit, list with pagination; the bureau reviews, approves and pays; the bank reads its
statement, downloads the PDF and verifies it.
"""
from __future__ import annotations

import hashlib
import importlib
import io
import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest

from tests.api.test_claim_lifecycle import firm_on_no_list, pin_today
from tests.helpers import blank_pdf

CONFIG = Path(__file__).with_name("client-config.yaml")

PDF = blank_pdf()  # uploads are parsed: a real one-page PDF
TODAY = date(2026, 9, 20)


def generate_client(base_url: str, where: Path):
    """Run openapi-python-client on the served document; return the imported package and the tool's output."""
    import httpx

    spec = where / "openapi.json"
    spec.write_bytes(httpx.get(f"{base_url}/openapi.json").content)
    tool = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run([str(tool), "generate", "--path", str(spec), "--meta", "none", "--config", str(CONFIG),
                           "--output-path", str(where / "bank_client")], capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(where))
    for name in [m for m in sys.modules if m == "bank_client" or m.startswith("bank_client.")]:
        del sys.modules[name]
    return importlib.import_module("bank_client"), output


def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.parsed


@pytest.fixture
def generated(live_server, tmp_path):
    package, _ = generate_client(live_server, tmp_path)
    yield package
    sys.path.remove(str(tmp_path))


def test_a_bank_and_the_bureau_work_through_the_generated_client(app, db, live_server, generated):
    from bank_client import AuthenticatedClient, Client
    from bank_client.api.claims import get_claim_by_id, post_claim_transitions, post_claims
    from bank_client.api.documents import post_claim_documents
    from bank_client.api.jobs import post_job_run_now
    from bank_client.api.loans import get_loans, post_loan_bulk, post_loan_status, post_loans
    from bank_client.api.statements import get_statement_pdf, get_statement_verify, get_statements
    from bank_client.api.users import post_token
    from bank_client.models import (ClaimCreate, ClaimCreateClassification, DocumentUpload, DocumentUploadKind,
                                    LoanCreate, Login, RunRequest, StatusReport, StatusReportStatus, Transition,
                                    TransitionAction)
    from bank_client.types import File

    bank = AuthenticatedClient(base_url=live_server, token=app.config["DEMO_KEYS"]["BANK_A"], prefix="",
                               auth_header_name="X-API-Key")
    firms = firm_on_no_list(db)
    disbursed = TODAY - timedelta(days=200)

    # The bank's nightly run: register one loan, upload a file of two more.
    pin_today(app, disbursed + timedelta(days=5))
    created = post_loans.sync_detailed(client=bank, idempotency_key="nightly-loan-1", body=LoanCreate(
        program="sz-sme-pool", contract_no="GEN-0001", enterprise_uscc=firms[0].uscc, principal="1000000.00",
        disbursed_on=disbursed, maturity_on=disbursed + timedelta(days=364), annual_rate="0.0385"))
    loan = _ok(created, 201)
    assert loan.principal == "1000000.00" and created.headers["ETag"] == '"1"'
    replay = post_loans.sync_detailed(client=bank, idempotency_key="nightly-loan-1", body=LoanCreate(
        program="sz-sme-pool", contract_no="GEN-0001", enterprise_uscc=firms[0].uscc, principal="1000000.00",
        disbursed_on=disbursed, maturity_on=disbursed + timedelta(days=364), annual_rate="0.0385"))
    assert _ok(replay, 201).id == loan.id and replay.headers["Idempotent-Replayed"] == "true"
    rows = "".join(f"sz-sme-pool,GEN-B{i},{firms[i].uscc},500000.00,{disbursed},{disbursed + timedelta(days=364)},"
                   "unsecured\n" for i in (1, 2))
    csv = ("program,contract_no,enterprise_uscc,principal,disbursed_on,maturity_on,security_type\n" + rows).encode()
    from bank_client.models import Upload

    report = _ok(post_loan_bulk.sync_detailed(client=bank, body=Upload(file=File(
        payload=io.BytesIO(csv), file_name="loans.csv", mime_type="text/csv"))))
    assert (report.accepted, report.rejected) == (2, 0)

    # Months later the loan defaults: status reported with its ETag, a claim filed with a PDF, and submitted.
    pin_today(app, TODAY - timedelta(days=10))
    reported = post_loan_status.sync_detailed(loan.id, client=bank, if_match='"1"', body=StatusReport(
        status=StatusReportStatus.NON_PERFORMING, as_of=TODAY - timedelta(days=20), days_overdue=120))
    assert _ok(reported).status.value == "non_performing" and reported.headers["ETag"] == '"2"'
    stale = post_loan_status.sync_detailed(loan.id, client=bank, if_match='"1"', body=StatusReport(
        status=StatusReportStatus.OVERDUE, as_of=TODAY - timedelta(days=20), days_overdue=120))
    assert stale.status_code == 412 and stale.parsed.code == "etag_mismatch"
    claim = _ok(post_claims.sync_detailed(client=bank, body=ClaimCreate(
        loan_id=loan.id, default_on=TODAY - timedelta(days=140), outstanding_principal="750000.00",
        days_overdue=120, classification=ClaimCreateClassification.SUBSTANDARD)), 201)
    assert claim.computed_amount != "0.00" and [a.value for a in claim.available_actions] == ["submit", "withdraw"]
    document = _ok(post_claim_documents.sync_detailed(claim.id, client=bank, body=DocumentUpload(
        kind=DocumentUploadKind.CLAIM_FORM, file=File(payload=io.BytesIO(PDF), file_name="代偿申请表.pdf",
                                                      mime_type="application/pdf"))), 201)
    assert document.sha256 == hashlib.sha256(PDF).hexdigest() and document.content_type == "application/pdf"
    # The program requires more evidence (its checklist says which): attach what is still missing, then submit.
    for item in _ok(get_claim_by_id.sync_detailed(claim.id, client=bank)).documents.missing:
        for n in range(item.missing):
            _ok(post_claim_documents.sync_detailed(claim.id, client=bank, body=DocumentUpload(
                kind=DocumentUploadKind(item.kinds[0]), file=File(payload=io.BytesIO(PDF), file_name=f"{item.kinds[0]}-{n}.pdf",
                                                                  mime_type="application/pdf"))), 201)
    claim = _ok(get_claim_by_id.sync_detailed(claim.id, client=bank))
    assert claim.documents.complete
    claim = _ok(post_claim_transitions.sync_detailed(claim.id, client=bank, if_match=f'"{claim.version}"',
                                                     body=Transition(action=TransitionAction.SUBMIT)))
    assert claim.status.value == "submitted"

    # Listing with pagination: the three loans over two pages, the total in X-Pagination.
    first = get_loans.sync_detailed(client=bank, page=1, page_size=2)
    second = get_loans.sync_detailed(client=bank, page=2, page_size=2)
    assert json.loads(first.headers["X-Pagination"])["total"] == 3
    assert len(_ok(first)) == 2 and len(_ok(second)) == 1
    assert {x.contract_no for x in first.parsed + second.parsed} == {"GEN-0001", "GEN-B1", "GEN-B2"}

    # The bureau: each role logs in and takes its step on the claim's current ETag.
    anonymous = Client(base_url=live_server)
    staff = {}
    for username in ("reviewer1", "approver2", "payer1", "admin"):
        token = _ok(post_token.sync_detailed(client=anonymous, body=Login(username=username,
                                                                           password=f"{username}-demo-pass")))
        staff[username] = AuthenticatedClient(base_url=live_server, token=token.token)
    for username, action in (("reviewer1", "start_review"), ("reviewer1", "pass"), ("approver2", "approve"),
                             ("payer1", "pay")):
        claim = _ok(post_claim_transitions.sync_detailed(claim.id, client=staff[username], if_match=f'"{claim.version}"',
                                                         body=Transition(action=TransitionAction(action))))
    assert claim.status.value == "paid" and claim.paid_amount == claim.approved_amount == claim.computed_amount
    assert _ok(get_claim_by_id.sync_detailed(claim.id, client=bank)).status.value == "paid"

    # After the quarter closes the admin issues statements; the bank reads its own and verifies it. The ledger
    # stamps real time, so the quarter is the one the postings were just made in.
    now = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    quarter = (now.month - 1) // 3 + 1
    pin_today(app, date(now.year + quarter // 4, quarter % 4 * 3 + 1, 9))
    run = _ok(post_job_run_now.sync_detailed("period_statements", client=staff["admin"],
                                             body=RunRequest(period=f"{now.year}Q{quarter}")))
    assert run.status == "done", run
    statements = _ok(get_statements.sync_detailed(client=bank))
    assert statements and {s.institution_id for s in statements} == {loan.institution_id}
    statement = statements[0]
    assert statement.totals.claims_paid == claim.paid_amount
    pdf = get_statement_pdf.sync_detailed(statement.id, client=bank)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert hashlib.sha256(pdf.content).hexdigest() == statement.sha256 == pdf.headers["Digest-SHA256"]
    check = _ok(get_statement_verify.sync_detailed(statement.id, client=bank))
    assert check.file_intact and check.content_current and check.actual_sha256 == statement.sha256
