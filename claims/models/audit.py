"""Append-only audit events chained by a keyed HMAC, and signed checkpoints of the chain head."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from claims.models.base import empty_dict, id_column, json_column, timestamp_column, utcnow


class AuditEvent(SQLModel, table=True):
    """One state change; `hash` covers the previous event's hash and this event's canonical JSON."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_entity", "entity", "entity_id"),)
    seq: int | None = Field(default=None, sa_column=id_column())
    at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    actor: str = Field(max_length=100)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=empty_dict, sa_column=json_column())
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement of the chain head at a moment: HMAC over (seq, hash, at) with the audit key."""

    __tablename__ = "audit_checkpoint"
    id: int | None = Field(default=None, sa_column=id_column())
    at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    head_hash: str = Field(max_length=64)
    count: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    signature: str = Field(max_length=64)
