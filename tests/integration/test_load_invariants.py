"""Money invariants under mixed concurrent load on PostgreSQL.

Registrations, claim filings, approvals, payments and recoveries run at once from a pool of threads
(each request its own test client and session), every institution write is sent twice with the same
Idempotency-Key, approvals and payments are raced by two staff on the same claim, and the budget
fits only part of the approvals. Afterwards: the ledger balances, no budget is overspent, no claim
is paid or reserved twice, every state change has its audit event and the audit chain verifies.
The counts are printed (run with -s) for the record.
"""
from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from claims import ledger
from claims.audit import verify_chain
from claims.models import AuditEvent, Claim, Enterprise, Decision, LedgerEntry, LedgerPosting, Loan, Recovery
from tests.integration.test_concurrency import PROGRAM, TODAY, ClaimFactory
from workflows.money import format_fen

SEED = 7
BUDGET_FEN = 26 * 3_000_000  # the 14 claims approved in set-up and 12 of the 24 raced ones, at 30,000.00
pytestmark = pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                                     indirect=True)


def _plan(app, db, callers):
    """The requests of the run, as (label, method, path, json, headers), shuffled with a fixed seed."""
    factory = ClaimFactory(app, db)
    second_review = [factory.claim("second_review") for _ in range(24)]
    approved = [factory.claim("approved") for _ in range(8)]
    paid = [factory.claim("paid") for _ in range(6)]
    defaulted = [factory.loan() for _ in range(10)]
    db.commit()
    bank_a, bank_b = callers["BANK_A"], callers["BANK_B"]
    # A firm borrows from one bank a year under the program: bank B lends to listed firms bank A has not touched.
    used = set(db.exec(select(Loan.enterprise_id)))
    fresh = iter([e.uscc for e in db.exec(select(Enterprise).order_by(Enterprise.id)) if e.id not in used
                  and not (e.industry or "").upper().startswith("K") and e.uscc.startswith("9144")])
    plan = []
    for index in range(16):
        bank, code = (bank_a, "A") if index % 2 == 0 else (bank_b, "B")
        disbursed = TODAY - timedelta(days=3 + index % 5)
        body = {"program": PROGRAM, "contract_no": f"LOAD-{code}-{index:03d}", "principal": "800000.00",
                "disbursed_on": disbursed.isoformat(), "maturity_on": (disbursed + timedelta(days=360)).isoformat(),
                "enterprise_uscc": next(fresh)}
        headers = bank.with_(**{"Idempotency-Key": f"load-loan-{index}"})
        plan += [("register", "POST", "/loans", body, headers)] * 2
    for index, loan in enumerate(defaulted):
        body = {"loan_id": loan.id, "default_on": "2026-06-20", "outstanding_principal": "100000.00",
                "days_overdue": 100}
        plan += [("file", "POST", "/claims", body, bank_a.with_(**{"Idempotency-Key": f"load-claim-{index}"}))] * 2
    for claim in second_review:
        for approver in ("approver2", "reviewer2"):
            # reviewer2 holds no approver role: a refusal; approver2 twice: one wins, one is stale.
            who = callers["approver2"] if approver == "approver2" else callers["reviewer2"]
            plan.append(("approve", "POST", f"/claims/{claim.id}/transitions", {"action": "approve"},
                         who.with_(**{"If-Match": f'"{claim.version}"'})))
        plan.append(("approve", "POST", f"/claims/{claim.id}/transitions", {"action": "approve"},
                     callers["approver2"].with_(**{"If-Match": f'"{claim.version}"'})))
    for claim in approved:
        plan += [("pay", "POST", f"/claims/{claim.id}/transitions", {"action": "pay"},
                  callers["payer1"].with_(**{"If-Match": f'"{claim.version}"'}))] * 2
    for index, claim in enumerate(paid):
        body = {"amount": "20000.00", "costs": "1000.00", "recovered_on": "2026-09-29"}
        plan += [("recover", "POST", f"/claims/{claim.id}/recoveries", body,
                  bank_a.with_(**{"Idempotency-Key": f"load-recovery-{index}"}))] * 2
    random.Random(SEED).shuffle(plan)
    return plan, second_review


def test_mixed_concurrent_traffic_keeps_every_money_invariant(app, callers, db, capsys):
    app.extensions["claims"]["today"] = TODAY
    ledger.lock_budget(db, program_code=PROGRAM, year=TODAY.year, budget_fen=BUDGET_FEN)
    db.commit()
    plan, raced = _plan(app, db, callers)

    def send(request):
        label, method, path, body, headers = request
        response = app.test_client().open(path, method=method, json=body, headers=headers)
        return label, response.status_code, response.get_json(silent=True) or {}

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(send, plan))

    statuses = Counter((label, status) for label, status, _ in results)
    assert not [r for r in results if r[1] >= 500], [r for r in results if r[1] >= 500][:3]
    # Idempotent retries: one resource per key, the retry either replayed it or was told the first is in flight.
    loan_ids = {b["id"] for label, status, b in results if label == "register" and status == 201}
    claim_ids = {b["id"] for label, status, b in results if label == "file" and status == 201}
    recovery_ids = {b["id"] for label, status, b in results if label == "recover" and status == 201}
    assert statuses[("register", 201)] >= 16 and len(loan_ids) == 16
    assert len(claim_ids) == 10 and len(recovery_ids) == 6
    assert set(statuses) <= {("register", 201), ("register", 409), ("file", 201), ("file", 409),
                             ("approve", 200), ("approve", 403), ("approve", 412), ("approve", 422),
                             ("pay", 200), ("pay", 412), ("recover", 201), ("recover", 409)}, statuses
    codes = Counter(b.get("code") for label, status, b in results if status == 422)
    assert set(codes) <= {"budget_exceeded"}, codes
    approvals = statuses[("approve", 200)]
    assert statuses[("approve", 403)] >= 1 and statuses[("approve", 422)] >= 1
    assert statuses[("pay", 200)] == 8

    db.commit()
    db.expire_all()
    # The ledger balances, every account's kept balance is the sum of its entries, and the budget is never overspent.
    assert ledger.trial_balance(db) == 0
    assert ledger.unbalanced_accounts(db) == []
    year = {p.year: p for p in ledger.budget_positions(db, program_code=PROGRAM)}[TODAY.year]
    assert year.budget_fen == BUDGET_FEN
    assert year.available_fen >= 0
    assert year.available_fen == year.budget_fen - year.reserved_fen - year.paid_fen
    claims = db.exec(select(Claim)).all()
    assert approvals == sum(1 for c in claims if c.id in {r.id for r in raced} and c.status == "approved")
    assert year.reserved_fen == sum(c.approved_fen for c in claims if c.status == "approved")
    assert year.paid_fen == sum(c.paid_fen for c in claims if c.status == "paid")
    # No claim reserved or paid twice; every paid claim paid exactly what was approved.
    kinds = Counter((p.kind, p.subject_id) for p in db.exec(select(LedgerPosting).where(
        LedgerPosting.subject_type == "claim")))
    assert max(kinds.values()) == 1
    assert all(c.paid_fen == c.approved_fen for c in claims if c.status == "paid")
    assert {s for (k, s) in kinds if k == "pay"} == {c.id for c in claims if c.status == "paid"}
    for posting in db.exec(select(LedgerPosting)):
        total = db.exec(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.posting_id == posting.id)).one()
        assert (total or 0) == 0
    # Every state change has its audit event; the chain verifies.
    events = Counter((e.entity, e.entity_id, e.action) for e in db.exec(select(AuditEvent)))
    for decision in db.exec(select(Decision).where(Decision.subject_type == "claim")):
        assert events[("claim", str(decision.subject_id), decision.action)] >= 1, decision
    for loan in db.exec(select(Loan)):
        assert events[("loan", str(loan.id), "registered")] == 1
    for claim in claims:
        assert events[("claim", str(claim.id), "filed")] == 1
    assert len(db.exec(select(Recovery)).all()) == len(recovery_ids) == 6
    chain = verify_chain(db)
    assert chain.ok, chain

    with capsys.disabled():
        print(f"\nload: {len(plan)} requests {dict(sorted(statuses.items()))}; approvals {approvals}; "
              f"conflicts {sum(n for (_, status), n in statuses.items() if status in (409, 412))}; budget "
              f"{format_fen(year.budget_fen)} reserved {format_fen(year.reserved_fen)} paid {format_fen(year.paid_fen)} "
              f"available {format_fen(year.available_fen)} recovered {format_fen(year.recovered_fen)}; "
              f"trial balance {ledger.trial_balance(db)}; audit events {chain.checked}")
