"""Recovery shares owed back to a program and not yet received at a period's end, with their age (应收账龄).

Read from the ledger: a `recovery` posting books a receivable against the institution, a `recovery_receipt`
posting (the bureau recorded the remittance received) clears part or all of it. What is left at the end of
the period, per recovery, is what the statement lists; the age counts from the day the receivable was booked
to the period's last day (the issue day for an interim statement), so a statement re-issued later shows the
same ages.
"""
from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case
from sqlmodel import Session, select

from claims.models import Institution, LedgerAccount, LedgerEntry, LedgerPosting, RecoveryReceipt
from reports.statement_model import Receivable


def outstanding_receivables(session: Session, *, program_code: str, end: datetime, as_of: date, timezone: str,
                            institution_id: int | None = None) -> dict[int, tuple[Receivable, ...]]:
    """Each institution's recoveries still owed back before `end`, oldest first, aged at as_of."""
    # One scan of the receivable entries: a booking names its recovery, a receipt names it through its row.
    recovery_id = case((LedgerPosting.kind == "recovery_receipt", RecoveryReceipt.recovery_id),
                       else_=LedgerPosting.subject_id)
    statement = (select(LedgerPosting.kind, recovery_id, LedgerPosting.at, LedgerEntry.amount_fen,
                        LedgerAccount.institution_id)
                 .select_from(LedgerEntry)
                 .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
                 .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                 .outerjoin(RecoveryReceipt, (LedgerPosting.subject_type == "recovery_receipt")
                            & (RecoveryReceipt.id == LedgerPosting.subject_id))
                 .where(LedgerAccount.kind == "receivable", LedgerAccount.program_code == program_code,
                        LedgerPosting.kind.in_(("recovery", "recovery_receipt")), LedgerPosting.at < end)
                 .order_by(LedgerPosting.at, LedgerPosting.id))
    if institution_id is not None:
        statement = statement.where(LedgerAccount.institution_id == institution_id)
    booked: dict[int, tuple[int, datetime]] = {}  # recovery -> (institution, booked at), oldest first
    left: dict[int, int] = {}
    for kind, recovery, at, amount, owner in session.exec(statement):
        if kind == "recovery":
            booked[recovery] = (owner, at)
        left[recovery] = left.get(recovery, 0) + int(amount)  # receipts credit the account: negative
    zone = ZoneInfo(timezone)
    found: dict[int, list[Receivable]] = {}
    for recovery, (owner, at) in booked.items():
        if left[recovery] <= 0:
            continue
        on = at.replace(tzinfo=UTC).astimezone(zone).date()
        found.setdefault(owner, []).append(
            Receivable(f"RC-{recovery:06d}", on.isoformat(), left[recovery], max((as_of - on).days, 0)))
    return {owner: tuple(items) for owner, items in found.items()}


def program_receivables(session: Session, by_institution: dict[int, tuple[Receivable, ...]]
                        ) -> tuple[Receivable, ...]:
    """The summary's view: every institution's outstanding receivables, named by institution code, oldest first."""
    if not by_institution:
        return ()
    codes = dict(session.exec(select(Institution.id, Institution.code)
                              .where(Institution.id.in_(list(by_institution)))).all())
    lines = [dataclasses.replace(r, reference=f"{codes[institution_id]}/{r.reference}")
             for institution_id, items in by_institution.items() for r in items]
    return tuple(sorted(lines, key=lambda r: (r.booked_on, r.reference)))
