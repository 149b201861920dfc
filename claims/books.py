"""The books checked as one: the audit chain (claims.audit), the ledger's kept balances (claims.ledger), and the
ledger's payouts against the audited decisions that made them.

Every place that says the books are intact asks this: `claims audit-verify`, `GET /audit/verify`, the console's
审计 page and the nightly jobs, so none of them says "intact" having checked less than the others.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import BigInteger, case, cast, func, select
from sqlmodel import Session

from claims import ledger
from claims.audit import ChainReport, verify_chain
from claims.models import AuditEvent, LedgerEntry, LedgerPosting
from workflows.flows import review_flow
from workflows.money import format_fen

# The review engine's ledger effects and the postings they write; each transition's audited event carries the
# amount its effect posted (claims.services.review_effects sets it as the decided amount).
_POSTING_OF_EFFECT = {"reserve_budget": "reserve", "release_budget": "release", "post_payment": "pay"}
_POSTING_OF_ACTION = {t.action: _POSTING_OF_EFFECT[e] for t in review_flow("books").transitions
                      for e in t.effects if e in _POSTING_OF_EFFECT}
_SUBJECTS = ("claim", "application")


@dataclass(frozen=True)
class BooksReport:
    """The chain's report, the accounts whose kept balance is not the sum of their entries, the trial balance, and
    the payouts whose postings differ from their audited decisions."""

    chain: ChainReport
    unbalanced: list[tuple[str, int, int]]  # (account code, kept fen, derived fen)
    trial_balance_fen: int
    # (subject type, id, posting kind, amounts posted, amounts the audited decisions carry), sorted
    unreconciled: list[tuple[str, int, str, list[int], list[int]]]

    @property
    def ok(self) -> bool:
        """Whether the chain holds, the ledger agrees with itself, and every payout posting with its decision."""
        return self.chain.ok and not self.unbalanced and self.trial_balance_fen == 0 and not self.unreconciled

    def findings(self) -> list[str]:
        """What is wrong, one sentence each in Chinese (none when ok)."""
        found = [] if self.chain.ok else [
            f"审计链在第 {self.chain.first_broken_seq} 条断裂（{self.chain.reason}），此前 {self.chain.checked} 条完好"]
        return found + ledger_findings(self.unbalanced, self.trial_balance_fen) + [
            f"{'代偿申请' if subject == 'claim' else '补贴/奖励申请'} #{subject_id} 的{_KIND_LABEL[kind]}分录 "
            f"{'、'.join(map(format_fen, posted)) or '无'} 元与审计记录的决定 {'、'.join(map(format_fen, audited)) or '无'} 元不符"
            for subject, subject_id, kind, posted, audited in self.unreconciled]

    def as_dict(self) -> dict:
        """The report as `GET /audit/verify` answers it."""
        chain = self.chain
        return {"ok": self.ok, "checked": chain.checked, "first_broken_seq": chain.first_broken_seq,
                "reason": chain.reason, "checkpoints": chain.checkpoints,
                "unbalanced_accounts": [{"account": code, "balance": format_fen(kept), "entries": format_fen(derived)}
                                        for code, kept, derived in self.unbalanced],
                "trial_balance": format_fen(self.trial_balance_fen),
                "unreconciled_payouts": [{"subject": f"{subject}:{subject_id}", "posting": kind,
                                          "posted": [format_fen(a) for a in posted],
                                          "audited": [format_fen(a) for a in audited]}
                                         for subject, subject_id, kind, posted, audited in self.unreconciled],
                "findings": self.findings()}


def ledger_findings(unbalanced: list[tuple[str, int, int]], trial_balance_fen: int) -> list[str]:
    """What is wrong with the ledger, one sentence each in Chinese: balances that are not their entries' sum, a
    trial balance that is not zero."""
    found = [f"账户 {code} 的余额 {format_fen(kept)} 元与其分录合计 {format_fen(derived)} 元不符"
             for code, kept, derived in unbalanced]
    if trial_balance_fen:
        found.append(f"全部分录合计 {format_fen(trial_balance_fen)} 元，借贷不平（应为 0.00）")
    return found


_KIND_LABEL = {"reserve": "预留", "release": "释放", "pay": "拨付"}


def unreconciled_payouts(session: Session) -> list[tuple[str, int, str, list[int], list[int]]]:
    """Claims and applications whose reserve, release and pay postings are not the amounts their audited decisions
    carry: the ledger is not itself chained, so an entry edited together with its balances is caught here, by
    events no one can re-sign without the key."""
    positive = func.sum(case((LedgerEntry.amount_fen > 0, LedgerEntry.amount_fen), else_=0))
    posted = session.execute(
        select(LedgerPosting.subject_type, LedgerPosting.subject_id, LedgerPosting.kind, positive)
        .join(LedgerEntry, LedgerEntry.posting_id == LedgerPosting.id)
        .where(LedgerPosting.subject_type.in_(_SUBJECTS), LedgerPosting.kind.in_(tuple(_KIND_LABEL)))
        .group_by(LedgerPosting.id, LedgerPosting.subject_type, LedgerPosting.subject_id, LedgerPosting.kind)
        .order_by(LedgerPosting.subject_type, LedgerPosting.subject_id).execution_options(yield_per=5000))
    subject_id = cast(AuditEvent.entity_id, BigInteger)
    audited = session.execute(
        select(AuditEvent.entity, subject_id, AuditEvent.action, AuditEvent.data)
        .where(AuditEvent.entity.in_(_SUBJECTS), AuditEvent.action.in_(tuple(_POSTING_OF_ACTION)))
        .order_by(AuditEvent.entity, subject_id).execution_options(yield_per=5000))
    # Both streams come in subject order; merged, they are read a subject at a time, so memory stays flat.
    rows = heapq.merge(((subject, int(sid), kind, True, int(amount)) for subject, sid, kind, amount in posted),
                       ((entity, int(sid), _POSTING_OF_ACTION[action], False, (data or {}).get("amount_fen"))
                        for entity, sid, action, data in audited), key=lambda row: row[:2])
    found = []
    for key, group in groupby(rows, key=lambda row: row[:2]):
        amounts: dict[tuple[str, bool], list] = {}
        for _, _, kind, is_posted, amount in group:
            amounts.setdefault((kind, is_posted), []).append(amount)
        for kind in sorted({kind for kind, _ in amounts}):
            decided = amounts.get((kind, False), [])
            if None in decided:
                continue  # an event written before decisions carried their amount: nothing to hold it to
            ours, held = sorted(amounts.get((kind, True), [])), sorted(a for a in decided if a)  # 0.00 posts nothing
            if ours != held:
                found.append((*key, kind, ours, held))
    return found


def verify_books(session: Session) -> BooksReport:
    """Recompute the audit chain and check its checkpoints, re-derive every ledger balance from its entries, and
    reconcile every payout posting with the audited decision that made it."""
    chain = verify_chain(session)
    return BooksReport(chain, ledger.unbalanced_accounts(session), ledger.trial_balance(session),
                       unreconciled_payouts(session))
