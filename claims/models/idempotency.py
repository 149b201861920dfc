"""Idempotency keys: the first response to a key is stored and replayed on retries."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from claims.models.base import id_column, timestamp_column, utcnow


class IdempotencyKey(SQLModel, table=True):
    """A client's Idempotency-Key claimed by one atomic insert; holds the response once done."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("principal", "key"),)
    id: int | None = Field(default=None, sa_column=id_column())
    principal: str = Field(max_length=64)
    key: str = Field(max_length=200)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    fingerprint: str = Field(max_length=64)
    state: str = Field(default="in_flight", max_length=16)
    response_status: int | None = None
    response_body: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    response_headers: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(index=True))
