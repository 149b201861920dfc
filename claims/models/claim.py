"""Loss claims, the review decisions taken on them, and recoveries reported after payment."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from claims.models.base import (
    BigId, empty_dict, empty_list, fen_column, fk_column, id_column, json_column, timestamp_column, utcnow,
)
from workflows.flows import CLAIM_FINAL, CLAIM_STATES

# The states a review queue lists; the final ones (paid, rejected, withdrawn) are most of the table.
OPEN_STATES = tuple(sorted(CLAIM_STATES - CLAIM_FINAL))
OPEN_QUEUE = sa.text("status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")")
COMMITTED = sa.text("status IN ('approved', 'paid')")
_claim_version = sa.Column("version", sa.Integer, nullable=False, default=1)


class Claim(SQLModel, table=True):
    """A loss or guarantee-compensation claim on a registered loan."""

    __table_args__ = (
        Index("ix_claim_queue", "program_code", "status", "submitted_at", "id"),
        Index("ix_claim_institution_status", "institution_id", "status", "submitted_at", "id"),
        # A queue over several open states (submitted + first_review) cannot be read in order from the
        # per-status index: without these the database sorts every open claim of a program per page.
        Index("ix_claim_open_queue", "program_code", "submitted_at", "id",
              postgresql_where=OPEN_QUEUE, sqlite_where=OPEN_QUEUE),
        Index("ix_claim_open_by_age", "submitted_at", "id", postgresql_where=OPEN_QUEUE, sqlite_where=OPEN_QUEUE),
        # A queue in due-date order (the console's) reads open claims in that order and stops at the page;
        # status is in the index so the overdue counts never visit the table.
        Index("ix_claim_open_by_due", "stage_due_on", "id", "status", postgresql_where=OPEN_QUEUE,
              sqlite_where=OPEN_QUEUE),
        # Breaker measures (on every approval and on the program page) sum what each institution was granted.
        Index("ix_claim_committed", "program_code", "institution_id", "budget_year", "approved_fen",
              postgresql_where=COMMITTED, sqlite_where=COMMITTED),
    )
    # One explicit Column shared with __mapper_args__ is the only way version_id_col works in SQLModel.
    __mapper_args__ = {"version_id_col": _claim_version}
    id: int | None = Field(default=None, sa_column=id_column())
    loan_id: int = Field(sa_column=fk_column("loan.id"))
    institution_id: int = Field(sa_column=fk_column("institution.id"))
    program_code: str = Field(foreign_key="program.code", max_length=32)
    rule_version_id: int = Field(sa_column=fk_column("rule_version.id"))
    status: str = Field(default="draft", max_length=16, index=True)
    default_on: date
    days_overdue: int = 0
    classification: str = Field(default="", max_length=32)
    outstanding_principal_fen: int = Field(sa_column=fen_column())
    unpaid_interest_fen: int = Field(default=0, sa_column=fen_column())
    # The days that interest covers, for a program's interest-day cap (a stated fact, kept for recomputes).
    interest_days: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0,
                                                              server_default="0"))
    recovered_before_fen: int = Field(default=0, sa_column=fen_column())
    # A lawsuit the institution declares (accepted by a court on this date): a trigger, and court papers due.
    lawsuit_accepted_on: date | None = None
    requested_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True, default=None))
    computed_fen: int = Field(default=0, sa_column=fen_column())
    approved_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True, default=None))
    paid_fen: int = Field(default=0, sa_column=fen_column())
    returned_fen: int = Field(default=0, sa_column=fen_column())
    ratio: str = Field(default="0", max_length=16)
    trace: list[Any] = Field(default_factory=empty_list, sa_column=json_column())
    shares: dict[str, Any] = Field(default_factory=empty_dict, sa_column=json_column())
    budget_year: int | None = None
    first_reviewer_id: int | None = Field(default=None, sa_column=fk_column("staff_user.id", nullable=True,
                                                                           index=False))
    note: str = Field(default="", max_length=2000)
    submitted_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    stage_due_on: date | None = None
    paid_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    version: int = Field(default=1, sa_column=_claim_version)


class Decision(SQLModel, table=True):
    """Who did what to a claim or application, at which stage, with what reason and amount."""

    __table_args__ = (Index("ix_decision_subject", "subject_type", "subject_id"),)
    id: int | None = Field(default=None, sa_column=id_column())
    subject_type: str = Field(max_length=16)
    subject_id: int = Field(sa_column=sa.Column(BigId, nullable=False))
    actor: str = Field(max_length=100)
    user_id: int | None = Field(default=None, sa_column=fk_column("staff_user.id", nullable=True, index=False))
    role: str = Field(max_length=16)
    action: str = Field(max_length=32)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    reason: str = Field(default="", max_length=2000)
    amount_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True, default=None))
    at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class Recovery(SQLModel, table=True):
    """Money the institution recovered after payment, and the share owed back to the program."""

    id: int | None = Field(default=None, sa_column=id_column())
    claim_id: int = Field(sa_column=fk_column("claim.id"))
    amount_fen: int = Field(sa_column=fen_column())
    costs_fen: int = Field(default=0, sa_column=fen_column())
    returned_fen: int = Field(sa_column=fen_column())
    recovered_on: date
    trace: list[Any] = Field(default_factory=empty_list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
