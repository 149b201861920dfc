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

from sqlalchemy import func
from sqlmodel import Session, select

from claims.models import Institution, LedgerAccount, LedgerEntry, LedgerPosting, RecoveryReceipt
from reports.statement_model import Receivable


def _receivable_entries(program_code: str, end: datetime):
    return (select(LedgerEntry.amount_fen, LedgerPosting.subject_id, LedgerPosting.at, LedgerAccount.institution_id)
            .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerAccount.kind == "receivable", LedgerAccount.program_code == program_code,
                   LedgerPosting.at < end))


def outstanding_receivables(session: Session, *, program_code: str, end: datetime, as_of: date,
                            timezone: str) -> dict[int, tuple[Receivable, ...]]:
    """Each institution's recoveries still owed back before `end`, oldest first, aged at as_of."""
    booked = session.exec(_receivable_entries(program_code, end).where(LedgerPosting.kind == "recovery")).all()
    received_rows = session.exec(
        select(RecoveryReceipt.recovery_id, func.sum(LedgerEntry.amount_fen))
        .join(LedgerPosting, (LedgerPosting.subject_id == RecoveryReceipt.id)
              & (LedgerPosting.subject_type == "recovery_receipt"))
        .join(LedgerEntry, LedgerEntry.posting_id == LedgerPosting.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerPosting.kind == "recovery_receipt", LedgerAccount.kind == "receivable",
               LedgerAccount.program_code == program_code, LedgerPosting.at < end)
        .group_by(RecoveryReceipt.recovery_id)).all()
    received = {recovery_id: int(total) for recovery_id, total in received_rows}  # negative: receipts credit it
    zone = ZoneInfo(timezone)
    found: dict[int, list[Receivable]] = {}
    for amount, recovery_id, at, institution_id in sorted(booked, key=lambda row: (row[2], row[1])):
        left = int(amount) + received.get(recovery_id, 0)
        if left <= 0:
            continue
        on = at.replace(tzinfo=UTC).astimezone(zone).date()
        found.setdefault(institution_id, []).append(
            Receivable(f"RC-{recovery_id:06d}", on.isoformat(), left, max((as_of - on).days, 0)))
    return {institution_id: tuple(items) for institution_id, items in found.items()}


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
