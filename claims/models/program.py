"""Programs, their published rule versions, institution admissions and annual budgets."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from claims.models.base import fen_column, fk_column, id_column, json_column, timestamp_column, utcnow


class Program(SQLModel, table=True):
    """A compensation, guarantee, subsidy or reward program run by the bureau."""

    code: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=32)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class RuleVersion(SQLModel, table=True):
    """One published version of a program's rules; immutable once anything refers to it."""

    __tablename__ = "rule_version"
    __table_args__ = (UniqueConstraint("program_code", "version"),)
    id: int | None = Field(default=None, sa_column=id_column())
    program_code: str = Field(foreign_key="program.code", max_length=32, index=True)
    version: str = Field(max_length=32)
    effective_from: date
    effective_to: date | None = None
    parameters: dict[str, Any] = Field(sa_column=json_column())
    source: str = Field(default="", max_length=500)
    sha256: str = Field(max_length=64)
    # proposed -> live (a second admin approved) -> retired; or proposed -> rejected. Seeds go live directly.
    status: str = Field(default="live", max_length=16, sa_column_kwargs={"server_default": "live"})
    published_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class RuleChange(SQLModel, table=True):
    """A maker-checker request to publish or retire a rule version: one admin proposes, another decides."""

    __tablename__ = "rule_change"
    id: int | None = Field(default=None, sa_column=id_column())
    rule_version_id: int = Field(sa_column=fk_column("rule_version.id"))
    action: str = Field(max_length=16)  # publish | retire
    status: str = Field(default="pending", max_length=16)  # pending | approved | rejected | superseded
    reason: str = Field(default="", max_length=500)
    proposed_by: str = Field(max_length=64)
    proposed_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    decided_by: str = Field(default="", max_length=64)
    decided_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    decision_note: str = Field(default="", max_length=500)


class Admission(SQLModel, table=True):
    """An institution's admission (准入) to a program; suspended by the owner or a circuit breaker."""

    __table_args__ = (UniqueConstraint("institution_id", "program_code"),)
    id: int | None = Field(default=None, sa_column=id_column())
    institution_id: int = Field(sa_column=fk_column("institution.id"))
    program_code: str = Field(foreign_key="program.code", max_length=32, index=True)
    status: str = Field(default="active", max_length=16)
    reason: str = Field(default="", max_length=500)
    quota_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True, default=None))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class BudgetYear(SQLModel, table=True):
    """A program's budget for one fiscal year; approvals lock this row so none can overspend."""

    __tablename__ = "budget_year"
    __table_args__ = (UniqueConstraint("program_code", "year"),)
    id: int | None = Field(default=None, sa_column=id_column())
    program_code: str = Field(foreign_key="program.code", max_length=32, index=True)
    year: int
    amount_fen: int = Field(sa_column=fen_column())
