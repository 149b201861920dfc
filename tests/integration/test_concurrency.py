"""Concurrent approvals against a budget that fits exactly ten: the budget row lock lets exactly ten through.

Fifty claims wait in second review; fifty threads, each with its own test client (and so its own
session), approve one claim each at the same moment. On PostgreSQL reserve_budget locks the
program-year budget row FOR UPDATE; on SQLite BEGIN IMMEDIATE serialises the writers. Either way
exactly ten are approved, forty are refused with 422 `budget_exceeded`, nothing is left available
and the ledger balances.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import select

from claims import ledger
from claims.audit import verify_chain
from claims.auth import Principal
from claims.models import AuditEvent, Claim, Enterprise, Institution, LedgerPosting, ListMembership, User
from claims.services import claims as claim_service
from claims.services import loans as loan_service

PROGRAM = "sz-sme-pool"
TODAY = date(2026, 9, 30)
AMOUNT_FEN = 100_000  # 1,000.00 approved on each claim


@dataclass
class Actors:
    """Principals for the use cases that build the claims directly, bypassing HTTP."""

    banks: dict[str, Principal]
    staff: dict[str, Principal]


def actors(session) -> Actors:
    """The seeded banks and demo staff as principals."""
    banks = {i.code: Principal(kind="institution", name=i.name, roles=frozenset({"institution"}), institution_id=i.id)
             for i in session.exec(select(Institution).where(Institution.kind == "bank"))}
    staff = {u.username: Principal(kind="staff", name=u.display_name, roles=u.role_set, user_id=u.id)
             for u in session.exec(select(User))}
    return Actors(banks=banks, staff=staff)


class ClaimFactory:
    """Registers loans and takes their claims to a review state through the real use cases."""

    def __init__(self, app, session):
        self.session, self.registry = session, app.extensions["claims"]["programs"]
        self.settings = app.extensions["claims"]["settings"]
        self.actors = actors(session)
        listed = set(session.exec(select(ListMembership.enterprise_id)))
        firms = [e for e in session.exec(select(Enterprise).order_by(Enterprise.id))
                 if not (e.industry or "").upper().startswith("K") and e.uscc.startswith("9144") and e.id not in listed]
        self.firms = itertools.cycle(firms)
        self.serial = itertools.count(1)

    def loan(self, bank: str = "BANK_A", status: str = "non_performing", principal_fen: int = 100_000_000,
             firm=None):
        """A loan registered in January and reported in default at the end of September (to a new firm by default)."""
        disbursed = date(2026, 1, 5) + timedelta(days=next(self.serial) % 20)
        item = loan_service.LoanInput(
            program=PROGRAM, contract_no=f"CC-{bank}-{next(self.serial):05d}", principal_fen=principal_fen,
            disbursed_on=disbursed, maturity_on=disbursed + timedelta(days=364), annual_rate=Decimal("0.0385"),
            security_type="unsecured", enterprise_uscc=(firm or next(self.firms)).uscc)
        principal = self.actors.banks[bank]
        loan = loan_service.register_loan(self.session, principal=principal, registry=self.registry, item=item,
                                          today=disbursed + timedelta(days=3))
        if status != "registered":
            loan = loan_service.report_loan_status(self.session, principal=principal, loan_id=loan.id, status=status,
                                                   as_of=TODAY, days_overdue=100)
        return loan

    def claim(self, state: str, bank: str = "BANK_A", outstanding_fen: int = 10_000_000, firm=None) -> Claim:
        """A claim on a fresh loan, taken to `state` (draft ... paid) by reviewer1, approver1 and payer1."""
        from claims.services.demo import PATHS, attach_required_documents

        loan = self.loan(bank, principal_fen=max(100_000_000, outstanding_fen), firm=firm)
        principal = self.actors.banks[bank]
        claim = claim_service.file_claim(
            self.session, principal=principal, registry=self.registry, loan_id=loan.id, today=TODAY,
            data=claim_service.ClaimInput(default_on=date(2026, 6, 20), outstanding_principal_fen=outstanding_fen,
                                          days_overdue=100, classification="substandard"))
        who = {"bank": principal, "reviewer": self.actors.staff["reviewer1"],
               "approver": self.actors.staff["approver1"], "payer": self.actors.staff["payer1"]}
        if PATHS[state]:
            attach_required_documents(self.session, principal=principal, registry=self.registry,
                                      subject_type="claim", subject=claim, settings=self.settings)
        for actor, action, extra in PATHS[state]:
            claim = claim_service.transition_claim(self.session, principal=who[actor], registry=self.registry,
                                                   claim_id=claim.id, action=action, expected_version=claim.version,
                                                   today=TODAY, **extra)
        return claim


def fire_together(app, requests: list[tuple[str, dict, dict]]) -> list:
    """POST every (path, json, headers) from its own thread and test client, all released at once."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def send(index: int, path: str, body: dict, headers: dict) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(path, json=body, headers=headers)
        responses[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=send, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def test_fifty_concurrent_approvals_fit_a_budget_of_ten_exactly(app, callers, db):
    app.extensions["claims"]["today"] = TODAY
    factory = ClaimFactory(app, db)
    waiting = [factory.claim("second_review") for _ in range(50)]
    assert all(c.computed_fen >= AMOUNT_FEN for c in waiting)
    ledger.lock_budget(db, program_code=PROGRAM, year=TODAY.year, budget_fen=10 * AMOUNT_FEN)
    db.commit()

    approver = callers["approver2"]
    responses = fire_together(app, [
        (f"/claims/{c.id}/transitions", {"action": "approve", "amount": "1000.00", "reason": "核减至预算测试金额"},
         approver.with_(**{"If-Match": f'"{c.version}"'})) for c in waiting])

    approved = [body for status, body in responses if status == 200]
    refused = [body for status, body in responses if status != 200]
    assert len(approved) == 10 and all(b["status"] == "approved" and b["approved_amount"] == "1000.00"
                                       for b in approved)
    assert len(refused) == 40
    assert {(s, b["code"]) for s, b in responses if s != 200} == {(422, "budget_exceeded")}
    assert all("available" in b["detail"] for b in refused)
    db.commit()
    db.expire_all()  # the factory's objects are cached in this session; read what the requests wrote
    position = {p.year: p for p in ledger.budget_positions(db, program_code=PROGRAM)}[TODAY.year]
    assert (position.budget_fen, position.reserved_fen, position.available_fen) == (1_000_000, 1_000_000, 0)
    assert ledger.trial_balance(db) == 0
    statuses = [db.get(Claim, c.id).status for c in waiting]
    assert statuses.count("approved") == 10 and statuses.count("second_review") == 40
    reserves = db.exec(select(LedgerPosting).where(LedgerPosting.kind == "reserve")).all()
    assert sorted(p.subject_id for p in reserves) == sorted(b["id"] for b in approved)
    assert verify_chain(db).ok

    # With nothing left, an approval at the computed amount is refused too, never approved at 0.00.
    left_over = db.get(Claim, next(c.id for c in waiting if db.get(Claim, c.id).status == "second_review"))
    again = app.test_client().post(f"/claims/{left_over.id}/transitions", json={"action": "approve"},
                                   headers=approver.with_(**{"If-Match": f'"{left_over.version}"'}))
    assert again.status_code == 422 and again.get_json()["code"] == "budget_exceeded", again.get_json()
    assert again.get_json()["available"] == "0.00"


def test_eight_concurrent_filings_on_one_loan_make_one_claim(app, callers, db):
    app.extensions["claims"]["today"] = TODAY
    loan = ClaimFactory(app, db).loan()
    db.commit()
    body = {"loan_id": loan.id, "default_on": "2026-06-20", "outstanding_principal": "100000.00",
            "days_overdue": 100, "classification": "substandard"}
    responses = fire_together(app, [("/claims", body, callers["BANK_A"].headers)] * 8)

    assert sorted(status for status, _ in responses) == [201] + [409] * 7, responses
    filed = next(b for s, b in responses if s == 201)
    assert {(b["code"], b["claim_id"]) for s, b in responses if s == 409} == {("claim_exists", filed["id"])}
    db.commit()
    assert db.exec(select(Claim.id).where(Claim.loan_id == loan.id)).all() == [filed["id"]]
    assert verify_chain(db).ok


def test_eight_concurrent_filings_on_eight_loans_chain_their_events_one_after_another(app, callers, db):
    # Every write appends to one audit chain: the head is read after its lock (audit_chain_head on PostgreSQL),
    # so writers that queued on the lock each link to the event the one before them committed, never to the
    # same one (a fork that verify_chain would reject).
    app.extensions["claims"]["today"] = TODAY
    factory = ClaimFactory(app, db)
    loans = [factory.loan() for _ in range(8)]
    db.commit()
    responses = fire_together(app, [("/claims", {"loan_id": loan.id, "default_on": "2026-06-20",
                                                 "outstanding_principal": "100000.00", "days_overdue": 100,
                                                 "classification": "substandard"}, callers["BANK_A"].headers)
                                    for loan in loans])

    assert [status for status, _ in responses] == [201] * 8, responses
    db.commit()
    filed = db.exec(select(AuditEvent).where(AuditEvent.entity == "claim", AuditEvent.action == "filed")).all()
    assert sorted(int(e.entity_id) for e in filed) == sorted(b["id"] for _, b in responses)
    assert len({e.prev_hash for e in filed}) == 8
    assert verify_chain(db).ok
