"""Institutions (banks, insurers, guarantors) and the API keys they call with."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from claims.models.base import fk_column, id_column, timestamp_column, utcnow

INSTITUTION_KINDS = ("bank", "insurer", "guarantor")


class Institution(SQLModel, table=True):
    """A cooperating bank, insurer or guarantor."""

    id: int | None = Field(default=None, sa_column=id_column())
    code: str = Field(max_length=32, unique=True, index=True)
    kind: str = Field(max_length=16)
    name: str = Field(max_length=200)
    uscc: str = Field(max_length=18, unique=True)
    status: str = Field(default="active", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class ApiKey(SQLModel, table=True):
    """An institution's API key: only the prefix and a hash of the secret are stored."""

    __tablename__ = "api_key"
    id: int | None = Field(default=None, sa_column=id_column())
    institution_id: int = Field(sa_column=fk_column("institution.id"))
    prefix: str = Field(max_length=16, unique=True, index=True)
    secret_hash: str = Field(max_length=64)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    revoked_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    issued_by: str = Field(default="", max_length=100)
    first_used_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
