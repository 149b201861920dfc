"""What the accountant asked for: interim marks, superseding versions that say why, period net and closing balance
as the ledger has them, contract / date / voucher columns, the reduction reason, a bank's confirmation or dispute."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import select

from claims.models import AuditEvent, LedgerAccount, LedgerEntry, LedgerPosting, Statement
from reports.jobs import JobDeps, run_job
from reports.periods import parse_period
from tests.integration.statement_history import build_history
from tests.integration.test_statements import packed_text, statements
from tests.helpers import local_folder

Q3 = parse_period("2026Q3")


@pytest.fixture
def deps(app):
    return JobDeps.from_app(app)


@pytest.fixture
def history(app, client, callers, db):
    return build_history(app, client, callers, db, Q3)


def _ledger_position(db, institution_id: int, *, before, since=None) -> int:
    """Paid to the institution on its claims minus recovery shares it owes back, straight from the entries."""
    def total(kind: str, account_kind: str, institution_filter) -> int:
        query = (select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                 .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
                 .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                 .where(LedgerPosting.kind == kind, LedgerAccount.kind == account_kind, LedgerPosting.at < before,
                        institution_filter))
        if since is not None:
            query = query.where(LedgerPosting.at >= since)
        return int(db.exec(query).one())

    from claims.models import Claim

    own_claims = select(Claim.id).where(Claim.institution_id == institution_id)
    paid = total("pay", "paid", LedgerPosting.subject_id.in_(own_claims) & (LedgerPosting.subject_type == "claim"))
    owed = total("recovery", "receivable", LedgerAccount.institution_id == institution_id)
    return paid - owed


def test_interim_then_final_then_corrected_versions_say_what_they_are_and_reconcile_to_the_ledger(
        app, client, callers, db, deps, history):
    interim = run_job(deps, "period_statements", today=date(2026, 9, 30), period=Q3)
    assert interim.status == "done", interim.error
    [v1] = statements(db, scope=f"institution:{history.institution_id}")
    assert (v1.version, v1.interim, v1.issue_date) == (1, True, date(2026, 9, 30))
    text = packed_text(local_folder(app, "statements") / v1.path)
    assert "深圳市中小微企业风险补偿资金池期中对账单（非最终）" in text and "对账单性质期中对账单（非最终）" in text
    assert "本对账单为期中对账单（非最终）" in text

    start, end = Q3.utc_bounds("Asia/Shanghai")
    period_net = _ledger_position(db, history.institution_id, before=end, since=start)
    closing = _ledger_position(db, history.institution_id, before=end)
    assert (v1.totals["period_net_fen"], v1.totals["net_fen"]) == (period_net, closing) == (16_000_00, 166_000_00)
    assert f"本期净额+{period_net // 100:,}.00" in text and f"期末余额+{closing // 100:,}.00" in text

    final = run_job(deps, "period_statements", today=date(2026, 10, 9))
    assert (final.counts["created"], final.counts["superseded"]) == (2, 2)
    v1, v2 = statements(db, scope=f"institution:{history.institution_id}")
    assert (v1.status, v2.status, v2.interim) == ("superseded", "done", False)
    text = packed_text(local_folder(app, "statements") / v2.path, layout=False)
    assert "资金池结算对账单" in text and "期末正式对账单" in text and "（非最终）" not in text
    assert ("替代说明本版（第2版）替代第1版（SZ-SME-POOL-2026Q3-BANK_A-v1）。变更原因：本期已结束，以正式对账单替代期中对账单。"
            in text)

    # A recovery booked inside Q3 after the final statement: version 3 says which figures changed.
    app.extensions["claims"]["today"] = date(2026, 11, 5)
    made = client.post(f"/claims/{history.claim_ids[0]}/recoveries",
                       json={"amount": "20000.00", "costs": "0.00", "recovered_on": "2026-11-05"},
                       headers=callers["BANK_A"].headers).get_json()
    db.commit()
    posting = db.exec(select(LedgerPosting).where(LedgerPosting.subject_type == "recovery",
                                                  LedgerPosting.subject_id == made["id"])).one()
    posting.at = posting.at.replace(year=2026, month=9, day=15)
    db.add(posting)
    db.commit()
    assert run_job(deps, "period_statements", today=date(2026, 11, 6)).counts["created"] == 2
    v3 = statements(db, scope=f"institution:{history.institution_id}")[-1]
    text = packed_text(local_folder(app, "statements") / v3.path, layout=False)
    assert made["returned"] == "2000.00"  # 20,000.00 at claim 1's actual ratio of 10 %
    assert ("本版（第3版）替代第2版（SZ-SME-POOL-2026Q3-BANK_A-v2）。变更原因：本期退回追偿款由9,000.00元变更为"
            "11,000.00元；期末余额由166,000.00元变更为164,000.00元；明细由2笔变更为3笔。") in text
    closing = _ledger_position(db, history.institution_id, before=end)
    assert v3.totals["net_fen"] == closing == 164_000_00


def test_the_reduction_reason_and_the_voucher_are_printed_on_the_line(app, client, callers, db, deps, history):
    run_job(deps, "period_statements", today=date(2026, 10, 9))
    bank = statements(db, scope=f"institution:{history.institution_id}")[-1]
    text = packed_text(local_folder(app, "statements") / bank.path, layout=False)
    # Claim 1 was approved at 150,000.00 with a reason: its recovery line is in Q3, the claim was paid in Q2, so
    # the reason is checked on the claim's own trace through the API's statement of Q2.
    q2 = run_job(deps, "period_statements", today=date(2026, 10, 9), period=parse_period("2026Q2"))
    assert q2.status == "done"
    [earlier] = [s for s in statements(db, scope=f"institution:{history.institution_id}") if s.period_start.month == 4]
    earlier_text = packed_text(local_folder(app, "statements") / earlier.path, layout=False)
    assert "核减至150,000.00（核减理由：核减：部分担保物尚在处置）" in earlier_text
    assert "A-2026-001" in earlier_text and "A-2026-002" in text


def test_a_bank_confirms_or_disputes_its_statement_with_a_reason_and_the_bureau_sees_it(
        app, client, callers, db, deps, history):
    run_job(deps, "period_statements", today=date(2026, 10, 9))
    bank = callers["BANK_A"]
    own = client.get("/statements", headers=bank.headers).get_json()[0]
    refused = client.post(f"/statements/{own['id']}/dispute", json={"reason": ""}, headers=bank.headers)
    assert refused.status_code == 422 and refused.get_json()["code"] == "reason_required"
    disputed = client.post(f"/statements/{own['id']}/dispute", json={"reason": "CL-000002 实付金额与我行入账不符"},
                           headers=bank.headers)
    assert disputed.status_code == 200, disputed.get_json()
    assert (disputed.get_json()["bank_response"], disputed.get_json()["bank_reason"]) == (
        "disputed", "CL-000002 实付金额与我行入账不符")
    other = client.post(f"/statements/{own['id']}/confirm", json={}, headers=callers["BANK_B"].headers)
    assert other.status_code == 404
    staff = client.post(f"/statements/{own['id']}/confirm", json={}, headers=callers["auditor1"].headers)
    assert staff.status_code == 403
    seen = client.get(f"/statements/{own['id']}", headers=callers["auditor1"].headers).get_json()
    assert (seen["bank_response"], seen["bank_reason"]) == ("disputed", "CL-000002 实付金额与我行入账不符")
    confirmed = client.post(f"/statements/{own['id']}/confirm", json={"reason": "已核对无误"}, headers=bank.headers)
    assert confirmed.get_json()["bank_response"] == "confirmed"
    db.commit()
    events = db.exec(select(AuditEvent).where(AuditEvent.entity == "statement").order_by(AuditEvent.seq)).all()
    assert [(e.action, e.data["reason"]) for e in events] == [
        ("dispute", "CL-000002 实付金额与我行入账不符"), ("confirm", "已核对无误")]
    row = db.get(Statement, own["id"])
    assert row.bank_responded_by and row.bank_responded_at is not None
