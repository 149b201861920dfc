"""The Loan Prime Rate history the interest-subsidy rate ceilings are read from."""
from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from claims.models.base import id_column, timestamp_column, utcnow


class LprRate(SQLModel, table=True):
    """One LPR fixing: the 1-year and 5-year rates (decimal strings) in force from a date until the next."""

    __tablename__ = "lpr_rate"
    id: int | None = Field(default=None, sa_column=id_column())
    effective_on: date = Field(unique=True, index=True)
    one_year: str = Field(max_length=16)
    five_year: str = Field(max_length=16)
    source: str = Field(default="", max_length=200)
    created_by: str = Field(default="system", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
