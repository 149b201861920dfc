"""Settlement reference data and money movements outside the review workflow: payee accounts, payment batches
and their lines, recovery remittances received, and maker-checker budget adjustments."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from claims.models.base import BigId, fen_column, fk_column, id_column, timestamp_column, utcnow


class PayeeAccount(SQLModel, table=True):
    """The bank account an institution is paid into (one current account per institution)."""

    __tablename__ = "payee_account"
    __table_args__ = (sa.UniqueConstraint("institution_id"),)
    id: int | None = Field(default=None, sa_column=id_column())
    institution_id: int = Field(sa_column=fk_column("institution.id"))
    account_name: str = Field(max_length=100)
    bank_name: str = Field(max_length=100)
    account_no: str = Field(max_length=32)  # digits only; printed in full only on the treasury file
    updated_by: str = Field(default="", max_length=100)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class PaymentBatch(SQLModel, table=True):
    """A payer's batch of approved items of one program, exported to the treasury and settled line by line."""

    __tablename__ = "payment_batch"
    id: int | None = Field(default=None, sa_column=id_column())
    program_code: str = Field(foreign_key="program.code", max_length=32, index=True)
    status: str = Field(default="open", max_length=16)  # open (lines pending) or settled (every line has a result)
    purpose: str = Field(max_length=200)
    total_fen: int = Field(sa_column=fen_column())
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class PaymentLine(SQLModel, table=True):
    """One item to pay in a batch, with the payee as it was when the batch was built, and the treasury's result."""

    __tablename__ = "payment_line"
    __table_args__ = (sa.Index("ix_payment_line_subject", "subject_type", "subject_id"),)
    id: int | None = Field(default=None, sa_column=id_column())
    batch_id: int = Field(sa_column=fk_column("payment_batch.id", index=True))
    subject_type: str = Field(max_length=16)  # claim or application
    subject_id: int = Field(sa_column=sa.Column(BigId, nullable=False))
    institution_id: int = Field(sa_column=fk_column("institution.id"))
    reference: str = Field(max_length=40, unique=True)  # 业务参考号 on the treasury file, e.g. PB000001-0001
    amount_fen: int = Field(sa_column=fen_column())
    account_name: str = Field(max_length=100)
    bank_name: str = Field(max_length=100)
    account_no: str = Field(max_length=32)
    status: str = Field(default="pending", max_length=16)  # pending, paid or failed
    voucher_no: str = Field(default="", max_length=64)
    paid_on: date | None = None
    failure_reason: str = Field(default="", max_length=500)


class RecoveryReceipt(SQLModel, table=True):
    """A recovery share the institution remitted back, as it reported it and as the bureau received it."""

    __tablename__ = "recovery_receipt"
    id: int | None = Field(default=None, sa_column=id_column())
    recovery_id: int = Field(sa_column=fk_column("recovery.id", index=True))
    amount_fen: int = Field(sa_column=fen_column())
    remitted_on: date
    bank_reference: str = Field(default="", max_length=64)
    status: str = Field(default="reported", max_length=16)  # reported by the bank, received by the bureau
    voucher_no: str = Field(default="", max_length=64)
    received_on: date | None = None
    received_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class BudgetAdjustment(SQLModel, table=True):
    """A proposed change of a program-year budget (追加 / 调减): a second admin approves it before it books."""

    __tablename__ = "budget_adjustment"
    id: int | None = Field(default=None, sa_column=id_column())
    program_code: str = Field(foreign_key="program.code", max_length=32, index=True)
    year: int
    amount_fen: int = Field(sa_column=fen_column())  # > 0 an increase, < 0 a decrease
    reason: str = Field(max_length=500)
    status: str = Field(default="proposed", max_length=16)  # proposed, approved or rejected
    proposed_by: str = Field(max_length=100)
    proposed_user_id: int | None = None
    decided_by: str = Field(default="", max_length=100)
    decision_reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    decided_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
