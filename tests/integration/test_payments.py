"""Payment runs: a batch of 50 approved claims exported for the treasury, 47 paid and 3 failed, and the ledger,
the claims and the statement agree; recovery remittances received clear the receivable; budget adjustments."""
from __future__ import annotations

import csv
import io
import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from claims import ledger
from claims.auth import Principal, issue_token
from claims.models import Claim, Enterprise, Institution, LedgerPosting, Statement, User
from claims.services import claims as claim_service
from claims.services import loans as loan_service
from claims.services.demo import PATHS, attach_required_documents
from reports.jobs import JobDeps, run_job
from reports.periods import parse_period
from tests.helpers import Caller, problem, field_messages, local_folder
from tests.integration.test_statements import packed_text
from workflows.money import format_fen, rmb_upper

TODAY = date(2026, 3, 20)
ACCOUNT = "6222 0210 0104 5678 901"


def _principal(db, username: str) -> Principal:
    user = db.exec(select(User).where(User.username == username)).one()
    return Principal(kind="staff", name=user.display_name, roles=user.role_set, user_id=user.id)


def approved_claims(app, db, count: int) -> list[Claim]:
    """count fresh bank A claims taken to approved through the review engine, each on its own small loan."""
    ext = app.extensions["claims"]
    session, registry = ext["sessions"](), ext["programs"]
    bank = db.exec(select(Institution).where(Institution.code == "BANK_A")).one()
    bank_a = Principal(kind="institution", name=bank.name, roles=frozenset({"institution"}), institution_id=bank.id)
    actors = {"bank": bank_a, "reviewer": _principal(db, "reviewer1"), "approver": _principal(db, "approver1")}
    firms = itertools.cycle([e for e in db.exec(select(Enterprise).order_by(Enterprise.id))
                             if e.uscc.startswith("9144") and not (e.industry or "").upper().startswith("K")])
    disbursed = TODAY - timedelta(days=200)
    claims = []
    for n in range(count):
        item = loan_service.LoanInput(
            program="sz-sme-pool", contract_no=f"PAY-{n:04d}", principal_fen=1_000_000_00 + n * 1_000_00,
            disbursed_on=disbursed, maturity_on=disbursed + timedelta(days=364), annual_rate=Decimal("0.0385"),
            security_type="unsecured", enterprise_uscc=next(firms).uscc)
        loan = loan_service.register_loan(session, principal=bank_a, registry=registry, item=item,
                                          today=disbursed + timedelta(days=5))
        loan_service.report_loan_status(session, principal=bank_a, loan_id=loan.id, status="non_performing",
                                        as_of=TODAY - timedelta(days=20), days_overdue=120)
        claim = claim_service.file_claim(
            session, principal=bank_a, registry=registry, loan_id=loan.id, today=TODAY - timedelta(days=10),
            data=claim_service.ClaimInput(default_on=TODAY - timedelta(days=140),
                                          outstanding_principal_fen=30_000_00 + n * 123_45, days_overdue=120,
                                          classification="substandard"))
        attach_required_documents(session, principal=bank_a, registry=registry, subject_type="claim", subject=claim,
                                  settings=ext["settings"])
        for actor, action, extra in PATHS["approved"]:
            claim = claim_service.transition_claim(session, principal=actors[actor], registry=registry,
                                                   claim_id=claim.id, action=action, expected_version=claim.version,
                                                   today=TODAY - timedelta(days=5), **extra)
        claims.append(claim)
    session.close()
    return claims


@pytest.fixture
def payee(client, callers):
    response = client.put(f"/payments/payees/{callers['BANK_A'].institution_id}", headers=callers["admin"].headers,
                          json={"account_name": "示例科技银行股份有限公司深圳分行", "bank_name": "示例科技银行深圳分行营业部",
                                "account_no": ACCOUNT})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["account_no"] == "****8901"  # masked everywhere but on the treasury file
    return response.get_json()


def test_fifty_claims_paid_in_a_batch_47_paid_3_failed_agree_in_ledger_claims_and_statement(
        app, client, callers, db, payee):
    claims = approved_claims(app, db, 50)
    amounts = {c.id: c.approved_fen for c in claims}
    assert all(amounts.values()) and len(set(amounts.values())) > 1
    payer = callers["payer1"]
    problem(client.post("/payments/batches", json={"program": "sz-sme-pool", "claim_ids": [claims[0].id]},
                        headers=callers["reviewer1"].headers), 403, "role_required")
    built = client.post("/payments/batches", headers=payer.headers, json={
        "program": "sz-sme-pool", "claim_ids": [c.id for c in claims], "purpose": "2026年第1批代偿补偿款"})
    assert built.status_code == 201, built.get_json()
    batch = built.get_json()
    total = sum(amounts.values())
    assert (len(batch["lines"]), batch["total"], batch["status"]) == (50, format_fen(total), "open")
    again = client.post("/payments/batches", headers=payer.headers,
                        json={"program": "sz-sme-pool", "claim_ids": [claims[0].id]})
    assert "already in a batch awaiting its result" in field_messages(problem(again, 422, "batch_items_refused"))[
        str(claims[0].id)]

    xlsx = client.get(f"/payments/batches/{batch['id']}/treasury-file?format=xlsx", headers=payer.headers)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["序号", "收款人户名", "收款人开户行", "收款人账号", "金额（元）", "金额大写", "用途", "业务参考号"]
    body, footer = rows[1:-1], rows[-1]
    assert len(body) == 50
    by_reference = {line["reference"]: line for line in batch["lines"]}
    for row in body:
        line = by_reference[row[7]]
        fen = amounts[line["subject_id"]]
        assert row[1:7] == ["示例科技银行股份有限公司深圳分行", "示例科技银行深圳分行营业部", ACCOUNT.replace(" ", ""),
                            format_fen(fen), rmb_upper(fen), "2026年第1批代偿补偿款"]
    assert sum(int(Decimal(row[4]) * 100) for row in body) == total
    assert footer[:2] == ["合计", "50笔"] and footer[4:6] == [format_fen(total), rmb_upper(total)]
    csv_rows = list(csv.reader(io.StringIO(client.get(f"/payments/batches/{batch['id']}/treasury-file?format=csv",
                                                      headers=payer.headers).data.decode("utf-8-sig"))))
    assert csv_rows == [["" if v is None else str(v) for v in row] for row in rows]

    lines = sorted(batch["lines"], key=lambda line: line["reference"])
    failed = {line["reference"] for line in lines[10:13]}
    results = [{"reference": line["reference"], "result": "failed", "reason": "收款账户户名不符"}
               if line["reference"] in failed else
               {"reference": line["reference"], "result": "paid", "voucher_no": f"PZ2026-{n:04d}",
                "paid_on": "2026-03-25"} for n, line in enumerate(lines)]
    recorded = client.post(f"/payments/batches/{batch['id']}/results", json={"results": results}, headers=payer.headers)
    assert recorded.status_code == 200, recorded.get_json()
    assert recorded.get_json() == {"paid": 47, "failed": 3, "unchanged": 0}
    replay = client.post(f"/payments/batches/{batch['id']}/results", json={"results": results}, headers=payer.headers)
    assert replay.get_json() == {"paid": 0, "failed": 0, "unchanged": 50}  # the same file twice pays nothing twice

    db.commit()  # end the test session's read snapshot: the API wrote since
    failed_ids = {by_reference[r]["subject_id"] for r in failed}
    states = {c.id: c.status for c in db.exec(select(Claim).where(Claim.id.in_(list(amounts))))}
    assert {i for i, s in states.items() if s == "approved"} == failed_ids, states
    assert sum(s == "paid" for s in states.values()) == 47
    paid_fen = total - sum(amounts[i] for i in failed_ids)
    postings = db.exec(select(LedgerPosting).where(LedgerPosting.kind == "pay", LedgerPosting.subject_type == "claim",
                                                   LedgerPosting.subject_id.in_(list(amounts)))).all()
    assert len(postings) == 47 and {p.subject_id for p in postings} == set(amounts) - failed_ids  # one posting each
    assert all(p.voucher_no.startswith("PZ2026-") for p in postings)
    position = {p.year: p for p in ledger.budget_positions(db, program_code="sz-sme-pool")}[2026]
    assert (position.paid_fen, position.reserved_fen) == (paid_fen, total - paid_fen)
    assert ledger.trial_balance(db) == 0
    shown = client.get(f"/payments/batches/{batch['id']}", headers=payer.headers).get_json()
    assert shown["status"] == "settled" and [line["status"] for line in shown["lines"]].count("failed") == 3
    retry = client.post("/payments/batches", headers=payer.headers,
                        json={"program": "sz-sme-pool", "claim_ids": sorted(failed_ids)})
    assert retry.status_code == 201 and retry.get_json()["total"] == format_fen(total - paid_fen)

    # The statement of the quarter: the postings are dated into 2026Q1 (the ledger stamps real time).
    db.commit()
    for n, posting in enumerate(db.exec(select(LedgerPosting).order_by(LedgerPosting.id)).all()):
        posting.at = datetime(2026, 3, 1, 2) + timedelta(seconds=n)
        db.add(posting)
    db.commit()
    deps = JobDeps.from_app(app)
    run = run_job(deps, "period_statements", today=date(2026, 4, 9), period=parse_period("2026Q1"))
    assert run.status == "done", run.error
    row = db.exec(select(Statement).where(Statement.scope == f"institution:{callers['BANK_A'].institution_id}",
                                          Statement.status == "done")).one()
    assert (row.totals["claims_paid_fen"], row.totals["lines"]) == (paid_fen, 47)
    text = packed_text(local_folder(app, "statements") / row.path, layout=False)
    assert "PZ2026-0000" in text and format_fen(paid_fen) not in text  # printed with thousands separators
    assert f"{paid_fen // 100:,}.{paid_fen % 100:02d}" in text


def test_a_recovery_remitted_and_received_clears_the_receivable(app, client, callers, db):
    [claim] = approved_claims(app, db, 1)
    payer, bank = callers["payer1"], callers["BANK_A"]
    paid = client.post(f"/claims/{claim.id}/transitions", json={"action": "pay", "voucher_no": "PZ-SINGLE-1"},
                       headers=payer.with_(**{"If-Match": f'"{claim.version}"'}))
    assert paid.status_code == 200, paid.get_json()
    app.extensions["claims"]["today"] = date(2026, 4, 1)
    made = client.post(f"/claims/{claim.id}/recoveries", json={"amount": "10000.00", "recovered_on": "2026-03-30"},
                       headers=bank.headers).get_json()
    owed = int(Decimal(made["returned"]) * 100)
    db.commit()
    receivable = ledger.institution_account(db, bank.institution_id, "sz-sme-pool", "receivable")
    assert owed > 0 and ledger.balance(db, receivable) == owed
    problem(client.post(f"/payments/recoveries/{made['id']}/remittances", headers=bank.headers,
                        json={"amount": format_fen(owed + 1), "remitted_on": "2026-04-02"}), 422,
            "remittance_exceeds_receivable")
    problem(client.post(f"/payments/recoveries/{made['id']}/remittances", headers=callers["BANK_B"].headers,
                        json={"amount": format_fen(owed), "remitted_on": "2026-04-02"}), 404, "not_found")
    reported = client.post(f"/payments/recoveries/{made['id']}/remittances", headers=bank.headers,
                           json={"amount": format_fen(owed), "remitted_on": "2026-04-02", "bank_reference": "HK0402"})
    assert reported.status_code == 201 and reported.get_json()["status"] == "reported"
    assert ledger.balance(db, receivable) == owed  # reported is not received
    received = client.post(f"/payments/remittances/{reported.get_json()['id']}/receive", headers=payer.headers,
                           json={"received_on": "2026-04-03", "voucher_no": "SK2026-0007"})
    assert received.status_code == 200 and received.get_json()["status"] == "received", received.get_json()
    db.commit()
    assert ledger.balance(db, receivable) == 0 and ledger.trial_balance(db) == 0
    problem(client.post(f"/payments/remittances/{reported.get_json()['id']}/receive", headers=payer.headers,
                        json={"received_on": "2026-04-03", "voucher_no": "SK2026-0007"}), 409, "receipt_final")
    pay = db.exec(select(LedgerPosting).where(LedgerPosting.kind == "pay", LedgerPosting.subject_id == claim.id)).one()
    assert pay.voucher_no == "PZ-SINGLE-1"  # the single pay action records its voucher too


def test_budget_adjustments_are_maker_checker_and_a_cut_below_reserved_plus_paid_is_refused(app, client, callers, db):
    approved_claims(app, db, 2)  # something reserved in 2026
    db.commit()
    # A second admin (the demo seeds one for maker-checker rule changes; made here if not).
    admin2 = db.exec(select(User).where(User.username == "admin2")).first()
    if admin2 is None:
        admin2 = User(username="admin2", display_name="系统管理员二", roles="admin", password_hash="x")
        db.add(admin2)
        db.commit()
    second = Caller({"Authorization": f"Bearer {issue_token(db, admin2)}"})
    db.commit()
    admin = callers["admin"]
    db.commit()
    position = {p.year: p for p in ledger.budget_positions(db, program_code="sz-sme-pool")}[2026]
    cut = format_fen(position.available_fen + 1)  # one fen more than neither reserved nor paid
    proposed = client.post("/payments/budget-adjustments", headers=admin.headers, json={
        "program": "sz-sme-pool", "year": 2026, "kind": "decrease", "amount": cut, "reason": "年中调减"})
    assert proposed.status_code == 201, proposed.get_json()
    problem(client.post(f"/payments/budget-adjustments/{proposed.get_json()['id']}/decision", headers=admin.headers,
                        json={"approve": True}), 403, "separation_of_duties")
    problem(client.post(f"/payments/budget-adjustments/{proposed.get_json()['id']}/decision", headers=second.headers,
                        json={"approve": True}), 422, "budget_exceeded")
    raised = client.post("/payments/budget-adjustments", headers=admin.headers, json={
        "program": "sz-sme-pool", "year": 2026, "kind": "increase", "amount": "5000000.00", "reason": "追加预算"})
    decided = client.post(f"/payments/budget-adjustments/{raised.get_json()['id']}/decision", headers=second.headers,
                          json={"approve": True, "reason": "经局党组会审议"})
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved", decided.get_json()
    budget = {b["year"]: b for b in client.get("/programs/sz-sme-pool/budget", headers=admin.headers).get_json()}
    assert budget[2026]["budget"] == format_fen(position.budget_fen + 5_000_000_00)
    assert budget[2026]["available"] == format_fen(position.available_fen + 5_000_000_00)
    listed = client.get("/payments/budget-adjustments?program=sz-sme-pool", headers=callers["auditor1"].headers)
    assert [(a["status"], a["amount"]) for a in listed.get_json()] == [
        ("approved", "5000000.00"), ("proposed", "-" + cut)]


def test_statements_list_receivables_outstanding_at_the_period_end_aged_in_bands(app, client, callers, db):
    first, second = approved_claims(app, db, 2)
    payer, bank = callers["payer1"], callers["BANK_A"]
    for claim in (first, second):
        paid = client.post(f"/claims/{claim.id}/transitions", json={"action": "pay", "voucher_no": f"PZ-{claim.id}"},
                           headers=payer.with_(**{"If-Match": f'"{claim.version}"'}))
        assert paid.status_code == 200, paid.get_json()
    app.extensions["claims"]["today"] = date(2026, 4, 1)
    made = [client.post(f"/claims/{c.id}/recoveries", json={"amount": amount, "recovered_on": "2026-03-30"},
                        headers=bank.headers).get_json() for c, amount in ((first, "10000.00"), (second, "4000.00"))]
    owed = [int(Decimal(m["returned"]) * 100) for m in made]
    part = owed[0] // 3
    remitted = [client.post(f"/payments/recoveries/{made[0]['id']}/remittances", headers=bank.headers,
                            json={"amount": format_fen(fen), "remitted_on": "2026-03-24"}).get_json()
                for fen in (part, owed[0] - part)]
    for receipt, on in zip(remitted, ("2026-03-25", "2026-04-05"), strict=True):
        received = client.post(f"/payments/remittances/{receipt['id']}/receive", headers=payer.headers,
                               json={"received_on": on, "voucher_no": f"SK-{receipt['id']}"})
        assert received.status_code == 200, received.get_json()
    db.commit()
    # Date the postings as the business happened (the ledger stamps real time): booked 5 Jan and 20 Mar, the first
    # receipt inside the quarter, the second after it (so at the quarter's end only the first counts).
    at = {("recovery", made[0]["id"]): datetime(2026, 1, 5, 2), ("recovery", made[1]["id"]): datetime(2026, 3, 20, 2),
          ("recovery_receipt", remitted[0]["id"]): datetime(2026, 3, 25, 2),
          ("recovery_receipt", remitted[1]["id"]): datetime(2026, 4, 5, 2)}
    for posting in db.exec(select(LedgerPosting)).all():
        posting.at = at.get((posting.kind, posting.subject_id), datetime(2026, 1, 2, 2))
        db.add(posting)
    db.commit()
    run = run_job(JobDeps.from_app(app), "period_statements", today=date(2026, 4, 9), period=parse_period("2026Q1"))
    assert run.status == "done", run.error
    row = db.exec(select(Statement).where(Statement.scope == f"institution:{bank.institution_id}",
                                          Statement.status == "done")).one()
    text = packed_text(local_folder(app, "statements") / row.path, layout=False)
    assert "截至期末未到账的应收追偿款及账龄" in text
    left = owed[0] - part  # the first recovery's remainder was received after the quarter: still owed at its end
    assert f"RC-{made[0]['id']:06d}2026-01-05{left / 100:,.2f}85" in text  # 5 Jan to 31 Mar: 85 days
    assert f"RC-{made[1]['id']:06d}2026-03-20{owed[1] / 100:,.2f}11" in text
    laid_out = packed_text(local_folder(app, "statements") / row.path)  # rows read across
    assert f"30天以内31至90天91至180天180天以上合计（元）{owed[1] / 100:,.2f}{left / 100:,.2f}0.000.00" \
           f"{(owed[1] + left) / 100:,.2f}" in laid_out
    summary = db.exec(select(Statement).where(Statement.scope == "program", Statement.status == "done")).one()
    summary_text = packed_text(local_folder(app, "statements") / summary.path)
    assert f"{owed[1] / 100:,.2f}{left / 100:,.2f}0.000.00{(owed[1] + left) / 100:,.2f}" in summary_text
    assert f"BANK_A/RC-{made[0]['id']:06d}2026-01-05{left / 100:,.2f}85" in summary_text
