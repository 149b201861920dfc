"""Subsidy (interest, guarantee fee, premium) and reward applications, reviewed like claims."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from claims.models.base import empty_list, fen_column, fk_column, id_column, json_column, timestamp_column, utcnow

APPLICATION_KINDS = ("interest_subsidy", "fee_subsidy", "reward")

_application_version = sa.Column("version", sa.Integer, nullable=False, default=1)


class Application(SQLModel, table=True):
    """An institution's application for a subsidy on one firm's loan, or for its own reward, for one period."""

    __table_args__ = (
        Index("ix_application_queue", "program_code", "status", "submitted_at"),
        Index("ix_application_institution_status", "institution_id", "status", "created_at"),
        Index("ix_application_enterprise_status", "enterprise_id", "status", "budget_year"),
    )
    # Same optimistic-locking set-up as Claim: the shared Column is what makes version_id_col work in SQLModel.
    __mapper_args__ = {"version_id_col": _application_version}
    id: int | None = Field(default=None, sa_column=id_column())
    institution_id: int = Field(sa_column=fk_column("institution.id"))
    program_code: str = Field(foreign_key="program.code", max_length=32)
    rule_version_id: int = Field(sa_column=fk_column("rule_version.id"))
    kind: str = Field(max_length=16)
    enterprise_id: int | None = Field(default=None, sa_column=fk_column("enterprise.id", nullable=True))
    loan_id: int | None = Field(default=None, sa_column=fk_column("loan.id", nullable=True))
    fee_kind: str = Field(default="", max_length=32)
    status: str = Field(default="draft", max_length=16, index=True)
    period_start: date
    period_end: date
    applied_on: date
    basis_fen: int = Field(sa_column=fen_column())
    outstanding_principal_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True, default=None))
    computed_fen: int = Field(default=0, sa_column=fen_column())
    approved_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True, default=None))
    paid_fen: int = Field(default=0, sa_column=fen_column())
    trace: list[Any] = Field(default_factory=empty_list, sa_column=json_column())
    budget_year: int | None = None
    first_reviewer_id: int | None = Field(default=None, sa_column=fk_column("staff_user.id", nullable=True,
                                                                           index=False))
    note: str = Field(default="", max_length=2000)
    submitted_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    stage_due_on: date | None = None
    paid_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    version: int = Field(default=1, sa_column=_application_version)
