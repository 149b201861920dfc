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
