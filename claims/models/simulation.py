"""What-if simulations of a draft rule version over history, and the items each one repriced."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from claims.models.base import (
    empty_dict, empty_list, fen_column, fk_column, id_column, json_column, timestamp_column, utcnow,
)


class Simulation(SQLModel, table=True):
    """One replay of history under a draft, with the inputs that make it reproducible and its progress."""

    id: int | None = Field(default=None, sa_column=id_column())
    program_code: str = Field(foreign_key="program.code", max_length=32, index=True)
    draft_version_id: int = Field(sa_column=fk_column("rule_version.id"))
    draft_sha256: str = Field(max_length=64)
    engine_version: str = Field(max_length=32)
    kinds: list[Any] = Field(default_factory=empty_list, sa_column=json_column())
    date_from: date
    date_to: date
    institutions: list[Any] = Field(default_factory=empty_list, sa_column=json_column())
    # queued -> running -> done | failed | cancelled
    status: str = Field(default="queued", max_length=16)
    cancel_requested: bool = False
    done: int = 0
    total: int = 0
    totals: dict[str, Any] = Field(default_factory=empty_dict, sa_column=json_column())
    # The draft's document as it was simulated: a draft may be saved again later, and an item's trace is
    # rebuilt from this on demand.
    draft_parameters: dict[str, Any] = Field(default_factory=empty_dict, sa_column=json_column())
    error: str = Field(default="", max_length=2000)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    # Moved by every chunk written: a running simulation whose heartbeat stopped lost its runner.
    heartbeat_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class SimulationItem(SQLModel, table=True):
    """One repriced claim: baseline and draft amounts, eligibility and the cap usage each side saw, in history's order.

    No traces: an item's two traces are rebuilt on demand by pricing it again with the stored cap usage
    (claims/services/simulation_items.py), which costs one item's pricing instead of two traces per item.
    """

    __tablename__ = "simulation_item"
    # By subject too: an item's traces are asked for by claim id, and rebuilt from the row found.
    __table_args__ = (Index("ix_simulation_item_seq", "simulation_id", "seq", unique=True),
                      Index("ix_simulation_item_subject", "simulation_id", "subject_id"))
    id: int | None = Field(default=None, sa_column=id_column())
    simulation_id: int = Field(sa_column=fk_column("simulation.id", index=False, ondelete="CASCADE"))
    seq: int
    subject_type: str = Field(default="claim", max_length=16)
    subject_id: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    institution_id: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    status: str = Field(max_length=16)
    history_on: date
    month: str = Field(max_length=7)
    category: str = Field(max_length=200)
    baseline_fen: int = Field(sa_column=fen_column())
    draft_fen: int = Field(sa_column=fen_column())
    delta_fen: int = Field(sa_column=fen_column())
    baseline_eligible: bool
    draft_eligible: bool
    baseline_binding: str = Field(default="", max_length=64)
    draft_binding: str = Field(default="", max_length=64)
    baseline_version_id: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0))
    # [baseline, draft]: each side's cap usage before this item, workflows.simulation.usage_values order.
    usage: list[Any] = Field(default_factory=empty_list, sa_column=json_column())
