"""Settlement statements and scheduled job runs."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from claims.models.base import empty_dict, fk_column, id_column, json_column, timestamp_column, utcnow


class Statement(SQLModel, table=True):
    """One version of the statement for (institution or whole program, program, period)."""

    __table_args__ = (
        sa.UniqueConstraint("scope", "program_code", "period_start", "version"),
        sa.Index("ix_statement_current", "scope", "program_code", "period_start", "status"),
    )
    id: int | None = Field(default=None, sa_column=id_column())
    scope: str = Field(max_length=32)  # "institution:<id>" or "program" (the bureau's summary)
    institution_id: int | None = Field(default=None, sa_column=fk_column("institution.id", nullable=True))
    program_code: str = Field(foreign_key="program.code", max_length=32)
    period_start: date
    period_end: date
    period_label: str = Field(max_length=32)
    version: int
    number: str = Field(max_length=64, unique=True)
    status: str = Field(default="generating", max_length=16)
    content_digest: str = Field(max_length=64)
    sha256: str | None = Field(default=None, max_length=64)
    path: str | None = Field(default=None, max_length=500)
    pages: int | None = None
    totals: dict[str, Any] = Field(default_factory=empty_dict, sa_column=json_column())
    issue_date: date | None = None  # the business date printed as 出具日期
    interim: bool = False  # issued before the period closed (期中对账单（非最终）)
    supersedes: str = Field(default="", max_length=1000)  # which version it replaces and what changed
    bank_response: str = Field(default="", max_length=16)  # "", "confirmed" or "disputed" by the institution
    bank_reason: str = Field(default="", max_length=2000)
    bank_responded_by: str = Field(default="", max_length=100)
    bank_responded_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    done_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class JobRun(SQLModel, table=True):
    """One run of a scheduled job: when, where, how it ended, what it did."""

    __tablename__ = "job_run"
    id: int | None = Field(default=None, sa_column=id_column())
    job: str = Field(max_length=64, index=True)
    host: str = Field(default="", max_length=100)
    trigger: str = Field(default="schedule", max_length=16)
    status: str = Field(default="running", max_length=16)
    started_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(index=True))
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    counts: dict[str, Any] = Field(default_factory=empty_dict, sa_column=json_column())
    error: str = Field(default="", max_length=2000)
