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


class DocumentRequest(SQLModel, table=True):
    """A reviewer's return asking for new documents of a kind; only files attached afterwards count."""

    __tablename__ = "document_request"
    __table_args__ = (Index("ix_document_request_subject", "subject_type", "subject_id", "status"),)
    id: int | None = Field(default=None, sa_column=id_column())
    subject_type: str = Field(max_length=16)
    subject_id: int = Field(sa_column=sa.Column(BigId, nullable=False))
    kind: str = Field(max_length=32)
    count: int = 1
    note: str = Field(default="", max_length=500)
    # The highest document id on the subject when asked: a file counts for the request only if newer.
    after_document_id: int = Field(default=0, sa_column=sa.Column(BigId, nullable=False, default=0))
    status: str = Field(default="open", max_length=16)
    requested_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    fulfilled_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
