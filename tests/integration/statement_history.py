"""A bank's history in sz-sme-pool placed around one quarter, for the statement and scheduler tests.

Claims are filed, reviewed and paid over HTTP with 2026 business dates; then the ledger postings are
dated into the quarter under test (the ledger stamps real time, so history is made by dating it):

- appropriation, claim 1 reserve and payment (150,000.00): 40 days before the quarter -> opening;
- claim 2 reserve and payment (25,000.00, the institution-year cap binds): inside the quarter;
- recovery 1 on claim 1 (9,000.00 owed back): the quarter's last second, 23:59:59 Shanghai time;
- recovery 2 on claim 1 (1,000.00 owed back): 00:00:00 Shanghai on the next day -> not in the quarter.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import select

from claims.models import Enterprise, LedgerPosting, Loan
from reports.periods import Period
from tests.api.test_claim_lifecycle import act, firm_on_list, firm_on_no_list, pin_today, register
from tests.helpers import attach_required


@dataclass
class History:
    """What the tests check the statement against."""

    institution_id: int
    claim_ids: tuple[int, int]
    enterprise_names: tuple[str, str]
    opening_fen: int = 150_000_00
    claims_paid_fen: int = 25_000_00
    recoveries_fen: int = 9_000_00

    @property
    def net_fen(self) -> int:
        """Opening + claims paid - recoveries owed back."""
        return self.opening_fen + self.claims_paid_fen - self.recoveries_fen


def _claim(client, caller, loan, outstanding: str):
    client.post(f"/loans/{loan['id']}/status", json={"status": "non_performing", "as_of": "2026-09-30",
                                                      "days_overdue": 120}, headers={**caller.headers, "If-Match": '"1"'})
    filed = client.post("/claims", json={"loan_id": loan["id"], "default_on": "2026-06-01",
                                         "outstanding_principal": outstanding, "days_overdue": 120,
                                         "classification": "substandard"}, headers=caller.headers)
    assert filed.status_code == 201, filed.get_json()
    return filed.get_json()


def _review_and_pay(client, callers, claim, **approve):
    claim = attach_required(client, callers["BANK_A"].headers, claim)
    claim = act(client, callers["BANK_A"], claim, "submit")
    claim = act(client, callers["reviewer1"], claim, "start_review")
    claim = act(client, callers["reviewer1"], claim, "pass")
    claim = act(client, callers["approver2"], claim, "approve", **approve)
    return act(client, callers["payer1"], claim, "pay")


def _date_postings(db, postings, when: datetime) -> None:
    for posting in postings:
        posting.at = when
        db.add(posting)


def _utc(day: date, seconds: int = 0) -> datetime:
    # Shanghai is UTC+8 all year: local midnight of `day` is 16:00 UTC the day before.
    return datetime(day.year, day.month, day.day) - timedelta(hours=8) + timedelta(seconds=seconds)


def build_history(app, client, callers, db, quarter: Period) -> History:
    """Create the history above with its postings dated around the quarter."""
    bank_a = callers["BANK_A"]
    pin_today(app, date(2026, 2, 1))
    special = firm_on_list(db, "specialized", date(2026, 1, 20))
    plain = firm_on_no_list(db)
    loans = [
        register(client, bank_a, contract_no="A-2026-001", enterprise_uscc=special.uscc, principal="2000000.00",
                 disbursed_on="2026-01-20", maturity_on="2027-01-19"),
        register(client, bank_a, contract_no="A-2026-002", enterprise_uscc=plain[0].uscc, principal="1000000.00",
                 disbursed_on="2026-01-22", maturity_on="2027-01-21"),
        register(client, bank_a, contract_no="A-2026-003", enterprise_uscc=plain[1].uscc, principal="500000.00",
                 disbursed_on="2026-01-25", maturity_on="2026-12-24"),
    ]
    pin_today(app, date(2026, 9, 30))
    first = _review_and_pay(client, callers, _claim(client, bank_a, loans[0], "1500000.00"), amount="150000.00",
                            reason="核减：部分担保物尚在处置")
    # The institution-year cap (5 % of 3,500,000.00 registered = 175,000.00) leaves 25,000.00 for claim 2.
    second = _review_and_pay(client, callers, _claim(client, bank_a, loans[1], "800000.00"))
    assert (first["paid_amount"], second["paid_amount"]) == ("150000.00", "25000.00")
    recoveries = []
    pin_today(app, date(2026, 11, 2))  # recoveries are dated no later than today
    for amount, costs in (("100000.00", "10000.00"), ("10000.00", "0.00")):
        made = client.post(f"/claims/{first['id']}/recoveries", json={"amount": amount, "costs": costs,
                                                                      "recovered_on": "2026-11-02"},
                           headers=bank_a.headers)
        assert made.status_code == 201, made.get_json()
        recoveries.append(made.get_json())
    assert [r["returned"] for r in recoveries] == ["9000.00", "1000.00"]

    db.commit()
    postings = list(db.exec(select(LedgerPosting).order_by(LedgerPosting.id)))
    by_subject = {}
    for posting in postings:
        by_subject.setdefault((posting.subject_type, posting.subject_id), []).append(posting)
    before = _utc(quarter.start - timedelta(days=40))
    _date_postings(db, [p for p in postings if p.kind == "appropriate"], before)
    _date_postings(db, by_subject[("claim", first["id"])], before + timedelta(days=1))
    _date_postings(db, by_subject[("claim", second["id"])], _utc(quarter.start + timedelta(days=20)))
    next_day = quarter.end + timedelta(days=1)
    _date_postings(db, by_subject[("recovery", recoveries[0]["id"])], _utc(next_day, -1))
    _date_postings(db, by_subject[("recovery", recoveries[1]["id"])], _utc(next_day))
    db.commit()
    names = tuple(db.get(Enterprise, db.get(Loan, loan["id"]).enterprise_id).name for loan in loans[:2])
    return History(institution_id=bank_a.institution_id, claim_ids=(first["id"], second["id"]), enterprise_names=names)
