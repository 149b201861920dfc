"""Double-entry ledger: accounts, postings, and entries that sum to zero per posting."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from claims.models.base import BigId, fen_column, fk_column, id_column, timestamp_column, utcnow


class LedgerAccount(SQLModel, table=True):
    """An account such as program budget, reserved, paid per year, or an institution's payable/receivable."""

    __tablename__ = "ledger_account"
    id: int | None = Field(default=None, sa_column=id_column())
    code: str = Field(max_length=120, unique=True, index=True)
    kind: str = Field(max_length=16)
    program_code: str | None = Field(default=None, foreign_key="program.code", max_length=32)
    year: int | None = None
    institution_id: int | None = Field(default=None, sa_column=fk_column("institution.id", nullable=True))
    # The sum of the account's entries, kept by claims.ledger.post in the posting's transaction, so that a
    # budget position reads one row instead of a year of entries. Read it with claims.ledger.balance (a
    # loaded object's copy is not refreshed); `claims audit-verify` checks it against the entries.
    balance_fen: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0,
                                                            server_default="0"))


@sa.event.listens_for(LedgerAccount, "before_update")
def _balance_moves_only_by_posting(mapper, connection, target: LedgerAccount) -> None:
    # A loaded copy of the balance is stale the moment another posting commits; writing it back (a merge, an
    # assignment) would silently undo that posting's movement, so the ORM may never write the column.
    if sa.inspect(target).attrs.balance_fen.history.has_changes():
        raise ValueError(f"ledger account {target.code}: a balance moves only by claims.ledger.post")


class LedgerPosting(SQLModel, table=True):
    """One balanced movement of money with what caused it."""

    __tablename__ = "ledger_posting"
    __table_args__ = (sa.Index("ix_posting_subject", "subject_type", "subject_id"),)
    id: int | None = Field(default=None, sa_column=id_column())
    kind: str = Field(max_length=32)
    subject_type: str = Field(max_length=16)
    subject_id: int = Field(sa_column=sa.Column(BigId, nullable=False))
    memo: str = Field(default="", max_length=500)
    voucher_no: str = Field(default="", max_length=64)  # the treasury's voucher for a payment or a receipt
    at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(index=True))


class LedgerEntry(SQLModel, table=True):
    """One leg of a posting; a posting's entries sum to zero."""

    __tablename__ = "ledger_entry"
    id: int | None = Field(default=None, sa_column=id_column())
    posting_id: int = Field(sa_column=fk_column("ledger_posting.id"))
    account_id: int = Field(sa_column=fk_column("ledger_account.id"))
    amount_fen: int = Field(sa_column=fen_column())
