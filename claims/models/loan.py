"""Loans registered by institutions into a program."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from claims.models.base import empty_dict, fen_column, fk_column, id_column, json_column, timestamp_column, utcnow

LOAN_STATUSES = ("registered", "current", "overdue", "non_performing", "repaid", "compensated", "closed")
# The ETag of a loan: bumped by SQLAlchemy on every update, checked against If-Match on status changes.
_loan_version = sa.Column("version", sa.Integer, nullable=False, default=1, server_default="1")


class Loan(SQLModel, table=True):
    """A loan an institution registered (备案) into a program, with the facts that drive its ratio."""

    __table_args__ = (
        UniqueConstraint("institution_id", "contract_no"),
        Index("ix_loan_institution_program_status", "institution_id", "program_code", "status"),
        # Covers the proportional caps' bases (an institution's principal registered in a year, and its balance
        # carried in), which every filing and recompute sums: read from the index, not from each loan row.
        Index("ix_loan_institution_principal", "institution_id", "program_code", "disbursed_on", "maturity_on",
              "principal_fen"),
    )
    __mapper_args__ = {"version_id_col": _loan_version}
    id: int | None = Field(default=None, sa_column=id_column())
    institution_id: int = Field(sa_column=fk_column("institution.id"))
    program_code: str = Field(foreign_key="program.code", max_length=32, index=True)
    rule_version_id: int = Field(sa_column=fk_column("rule_version.id"))
    enterprise_id: int | None = Field(default=None, sa_column=fk_column("enterprise.id", nullable=True))
    individual_id: int | None = Field(default=None, sa_column=fk_column("individual.id", nullable=True))
    guarantor_id: int | None = Field(default=None, sa_column=fk_column("institution.id", nullable=True))
    contract_no: str = Field(max_length=64)
    principal_fen: int = Field(sa_column=fen_column())
    disbursed_on: date = Field(index=True)
    maturity_on: date
    annual_rate: str = Field(max_length=16)
    security_type: str = Field(max_length=32)
    unsecured_share: str = Field(default="1", max_length=16)
    guarantee_ratio: str | None = Field(default=None, max_length=16)
    first_loan: bool = False
    policy_tool: bool = False
    attributes: dict[str, Any] = Field(default_factory=empty_dict, sa_column=json_column())
    status: str = Field(default="registered", max_length=16)
    days_overdue: int = 0
    status_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(index=True))
    version: int = Field(default=1, sa_column=_loan_version)
    # Set by every change after registration (null until then: bulk registration writes rows by COPY);
    # `GET /loans?updated_since=` reads coalesce(updated_at, created_at) for a nightly sync.
    updated_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(), nullable=True,
                                                                          onupdate=utcnow))
