"""Ledger accounts keep their balance: moved by every posting, equal to the sum of entries, checked by audit-verify.

A budget position used to sum every entry of the program (49 ms at 300,000 entries on PostgreSQL, on every
filing); it now reads each account's kept balance, so the balance must be exactly what the entries say, under
concurrent postings too (test_load_invariants checks it after its concurrent approvals, payments and
recoveries), and a balance edited in the database must be caught.
"""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import select

from claims import ledger
from claims.db import begin_write
from claims.models import LedgerAccount, LedgerEntry, LedgerPosting
from reports.jobs import JobDeps, run_job
from tests.api.test_console_pages import login
from tests.integration.test_cli import run
from tests.integration.test_concurrency import PROGRAM, TODAY, ClaimFactory
from workflows.money import format_fen


def derived(db, account) -> int:
    """An account's balance summed from its entries, as the ledger's own check does."""
    return int(db.exec(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                       .where(LedgerEntry.account_id == account.id)).one())


def test_kept_balances_follow_approvals_and_payments_to_the_fen(app, db):
    app.extensions["claims"]["today"] = TODAY
    factory = ClaimFactory(app, db)
    paid = factory.claim("paid")
    approved = factory.claim("approved")
    db.commit()
    accounts = {kind: ledger.program_account(db, PROGRAM, TODAY.year, kind)
                for kind in ("available", "reserved", "paid", "appropriation")}
    position = {p.year: p for p in ledger.budget_positions(db, program_code=PROGRAM)}[TODAY.year]

    assert ledger.balance(db, accounts["paid"]) == derived(db, accounts["paid"]) == paid.paid_fen > 0
    assert ledger.balance(db, accounts["reserved"]) == derived(db, accounts["reserved"]) == approved.approved_fen
    assert (position.paid_fen, position.reserved_fen) == (paid.paid_fen, approved.approved_fen)
    assert position.available_fen == derived(db, accounts["available"]) == (
        -derived(db, accounts["appropriation"]) - paid.paid_fen - approved.approved_fen)
    assert ledger.unbalanced_accounts(db) == [] and ledger.trial_balance(db) == 0


def test_a_balance_edited_in_the_database_fails_audit_verify_and_the_nightly_jobs(app, db, callers):
    app.extensions["claims"]["today"] = TODAY
    ClaimFactory(app, db).claim("approved")
    db.commit()
    assert run(app, "audit-verify").exit_code == 0
    available = ledger.program_account(db, PROGRAM, TODAY.year, "available")
    kept = ledger.balance(db, available)
    # A clerk with database access raises what is available, which would let approvals past the budget.
    db.execute(sa.text("UPDATE ledger_account SET balance_fen = balance_fen + 100000 WHERE id = :id"),
               {"id": available.id})
    db.commit()

    assert ledger.unbalanced_accounts(db) == [(available.code, kept + 100_000, kept)]
    broken = run(app, "audit-verify")
    assert broken.exit_code == 1
    assert (f"ledger account {available.code} keeps a balance of {kept + 100_000} fen; "
            f"its entries sum to {kept} fen") in broken.output
    # The nightly jobs find it too, and say so on their runs (the console's job list) instead of carrying on.
    deps = JobDeps.from_app(app)
    snapshot = run_job(deps, "budget_snapshot", today=TODAY)
    finding = f"账户 {available.code} 的余额 {format_fen(kept + 100_000)} 元与其分录合计 {format_fen(kept)} 元不符"
    assert (snapshot.status, snapshot.error, snapshot.counts["unbalanced_accounts"]) == (
        "failed", finding, [available.code])
    checkpoint = run_job(deps, "audit_checkpoint", today=TODAY)
    assert (checkpoint.status, checkpoint.error) == ("failed", f"{finding}；未签署检查点")
    assert db.execute(sa.text("SELECT count(*) FROM audit_checkpoint")).scalar_one() == 0
    # And the auditor's API says the same: not ok, the account named with both amounts.
    verified = app.test_client().get("/audit/verify", headers=callers["auditor1"].headers).get_json()
    assert (verified["ok"], verified["checked"] > 0, verified["first_broken_seq"], verified["trial_balance"]) == (
        False, True, None, "0.00")
    assert verified["unbalanced_accounts"] == [{"account": available.code, "balance": format_fen(kept + 100_000),
                                                "entries": format_fen(kept)}]
    assert verified["findings"] == [finding]
    browser = app.test_client()
    login(browser, "auditor1")
    page = browser.get("/console/audit?verify=1").get_data(as_text=True)
    assert 'data-chain-ok="false"' in page and finding in page


def test_postings_crossing_accounts_in_opposite_orders_both_commit(app, db):
    # Two transactions each post twice, over the same two pairs of accounts in opposite orders. Each moved
    # account's row stays locked to commit; were the rows locked as the postings came, the second posting of
    # each would wait on the other's first (a deadlock PostgreSQL breaks by failing one). The audit chain's
    # lock taken before any balance moves makes the second transaction wait whole for the first instead.
    accounts = [ledger.program_account(db, PROGRAM, 2030, kind) for kind in ("available", "appropriation",
                                                                             "reserved", "paid")]
    db.commit()
    ids = [a.id for a in accounts]
    pairs = [(ids[0], ids[1]), (ids[2], ids[3])]
    errors: list[Exception] = []
    posted = {"one": threading.Event(), "two": threading.Event()}

    def post_twice(name: str, order: list, other: str) -> None:
        session = app.extensions["claims"]["sessions"]()
        try:
            begin_write(session)  # as every use case opens its write (on SQLite: BEGIN IMMEDIATE, so writers queue)
            for number, (debit, credit) in enumerate(order):
                ledger.post(session, kind="test", subject_type="test", subject_id=number,
                            legs=[(session.get(LedgerAccount, debit), 100), (session.get(LedgerAccount, credit), -100)])
                if number == 0:
                    posted[name].set()
                    posted[other].wait(timeout=3)  # the other's first posting, if it can make one meanwhile
            session.commit()
        except Exception as exc:  # noqa: BLE001 - the test reports what failed
            errors.append(exc)
            session.rollback()
        finally:
            session.close()

    # "two" moves the second pair and waits; "one" then moves the first pair and reaches for the second.
    # Without the chain's lock ahead of the balances, "two" next reaches for the first pair: a cycle.
    two = threading.Thread(target=post_twice, args=("two", pairs[::-1], "one"))
    one = threading.Thread(target=post_twice, args=("one", pairs, "two"))
    two.start()
    posted["two"].wait(timeout=5)
    one.start()
    for thread in (one, two):
        thread.join(timeout=60)

    assert errors == []
    db.expire_all()
    assert [ledger.balance(db, a) for a in accounts] == [200, -200, 200, -200]
    assert ledger.unbalanced_accounts(db) == []


def test_a_stale_loaded_balance_is_never_written_back(app, db):
    # session.merge copies a detached object's attributes over the row it loads: with a balance read before
    # another posting committed, the flush would have set the column back and lost that posting.
    account = ledger.program_account(db, PROGRAM, 2030, "available")
    db.commit()
    other = app.extensions["claims"]["sessions"]()
    with other:
        begin_write(other)
        ledger.post(other, kind="test", subject_type="test", subject_id=1,
                    legs=[(ledger.program_account(other, PROGRAM, 2030, "available"), 100),
                          (ledger.program_account(other, PROGRAM, 2030, "paid"), -100)])
        other.commit()
    stale = app.extensions["claims"]["sessions"]()
    with stale:
        merged = stale.merge(account)
        with pytest.raises(ValueError, match="a balance moves only by claims.ledger.post"):
            stale.flush()
        stale.rollback()
    assert merged is not None and ledger.balance(db, account) == 100 == derived(db, account)


def test_a_payout_edited_with_its_balances_is_caught_by_the_audited_decision(app, db, callers):
    # The cleverer clerk: both entries of the pay posting and both accounts' balances moved together, so the
    # posting still sums to zero and every balance is still its entries' sum. The audited pay event, which
    # cannot be re-signed without the key, still says what was paid.
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("paid")
    db.commit()
    assert run(app, "audit-verify").exit_code == 0
    posting = db.exec(select(LedgerPosting).where(LedgerPosting.subject_type == "claim",
                                                  LedgerPosting.subject_id == claim.id,
                                                  LedgerPosting.kind == "pay")).one()
    for entry in db.exec(select(LedgerEntry).where(LedgerEntry.posting_id == posting.id)).all():
        moved = 100_000 if entry.amount_fen > 0 else -100_000
        db.execute(sa.text("UPDATE ledger_entry SET amount_fen = amount_fen + :m WHERE id = :id"),
                   {"m": moved, "id": entry.id})
        db.execute(sa.text("UPDATE ledger_account SET balance_fen = balance_fen + :m WHERE id = :id"),
                   {"m": moved, "id": entry.account_id})
    db.commit()
    assert ledger.unbalanced_accounts(db) == [] and ledger.trial_balance(db) == 0

    broken = run(app, "audit-verify")
    assert broken.exit_code == 1
    assert (f"claim {claim.id}: pay postings of [{claim.paid_fen + 100_000}] fen, but its audited decisions say "
            f"[{claim.paid_fen}] fen") in broken.output
    verified = app.test_client().get("/audit/verify", headers=callers["auditor1"].headers).get_json()
    assert verified["ok"] is False and verified["unbalanced_accounts"] == []
    assert verified["unreconciled_payouts"] == [{"subject": f"claim:{claim.id}", "posting": "pay",
                                                 "posted": [format_fen(claim.paid_fen + 100_000)],
                                                 "audited": [format_fen(claim.paid_fen)]}]
    assert verified["findings"] == [f"代偿申请 #{claim.id} 的拨付分录 {format_fen(claim.paid_fen + 100_000)} 元与审计记录的"
                                    f"决定 {format_fen(claim.paid_fen)} 元不符"]
