"""The books checked as one: the audit chain (claims.audit) and the ledger's kept balances (claims.ledger).

Every place that says the books are intact asks this: `claims audit-verify`, `GET /audit/verify`, the console's
审计 page and the nightly jobs, so none of them says "intact" having checked less than the others.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from claims import ledger
from claims.audit import ChainReport, verify_chain
from workflows.money import format_fen


@dataclass(frozen=True)
class BooksReport:
    """The chain's report, the accounts whose kept balance is not the sum of their entries, and the trial balance."""

    chain: ChainReport
    unbalanced: list[tuple[str, int, int]]  # (account code, kept fen, derived fen)
    trial_balance_fen: int

    @property
    def ok(self) -> bool:
        """Whether the chain holds and the ledger agrees with itself."""
        return self.chain.ok and not self.unbalanced and self.trial_balance_fen == 0

    def findings(self) -> list[str]:
        """What is wrong, one sentence each in Chinese (none when ok)."""
        found = [] if self.chain.ok else [
            f"审计链在第 {self.chain.first_broken_seq} 条断裂（{self.chain.reason}），此前 {self.chain.checked} 条完好"]
        return found + ledger_findings(self.unbalanced, self.trial_balance_fen)

    def as_dict(self) -> dict:
        """The report as `GET /audit/verify` answers it."""
        chain = self.chain
        return {"ok": self.ok, "checked": chain.checked, "first_broken_seq": chain.first_broken_seq,
                "reason": chain.reason, "checkpoints": chain.checkpoints,
                "unbalanced_accounts": [{"account": code, "balance": format_fen(kept), "entries": format_fen(derived)}
                                        for code, kept, derived in self.unbalanced],
                "trial_balance": format_fen(self.trial_balance_fen), "findings": self.findings()}


def ledger_findings(unbalanced: list[tuple[str, int, int]], trial_balance_fen: int) -> list[str]:
    """What is wrong with the ledger, one sentence each in Chinese: balances that are not their entries' sum, a
    trial balance that is not zero."""
    found = [f"账户 {code} 的余额 {format_fen(kept)} 元与其分录合计 {format_fen(derived)} 元不符"
             for code, kept, derived in unbalanced]
    if trial_balance_fen:
        found.append(f"全部分录合计 {format_fen(trial_balance_fen)} 元，借贷不平（应为 0.00）")
    return found


def verify_books(session: Session) -> BooksReport:
    """Recompute the audit chain and check its checkpoints, then re-derive every ledger balance from its entries."""
    chain = verify_chain(session)
    return BooksReport(chain, ledger.unbalanced_accounts(session), ledger.trial_balance(session))
