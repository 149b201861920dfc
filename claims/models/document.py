"""Uploaded evidence documents; bytes live on disk addressed by their SHA-256."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from claims.models.base import BigId, fk_column, id_column, timestamp_column, utcnow


class Document(SQLModel, table=True):
    """A file attached to a claim or application."""

    __table_args__ = (Index("ix_document_owner", "owner_type", "owner_id"),)
    id: int | None = Field(default=None, sa_column=id_column())
    owner_type: str = Field(max_length=16)
    owner_id: int = Field(sa_column=sa.Column(BigId, nullable=False))
    institution_id: int = Field(sa_column=fk_column("institution.id"))
    kind: str = Field(max_length=32)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    size: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
