"""Enterprises, individual borrowers, enterprise categories and dated list memberships."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint, true as sa_true
from sqlmodel import Field, SQLModel

from claims.models.base import fen_column, fk_column, id_column, timestamp_column, utcnow


class Enterprise(SQLModel, table=True):
    """A borrowing firm, identified by its 统一社会信用代码."""

    id: int | None = Field(default=None, sa_column=id_column())
    uscc: str = Field(max_length=18, unique=True, index=True)
    name: str = Field(max_length=200)
    size: str = Field(default="small", max_length=16)
    annual_revenue_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True, default=None))
    district: str = Field(default="", max_length=64)
    industry: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class Individual(SQLModel, table=True):
    """A natural-person borrower of a startup guarantee loan, identified by resident ID."""

    id: int | None = Field(default=None, sa_column=id_column())
    resident_id: str = Field(max_length=18, unique=True, index=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class EnterpriseCategory(SQLModel, table=True):
    """A named enterprise list (国家高新技术企业, 专精特新, a program's white list, ...)."""

    __tablename__ = "enterprise_category"
    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    validity_note: str = Field(default="", max_length=200)
    issuer: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    # An entry may last at most this long (高新技术企业: 36 months); None: no limit.
    valid_for_months: int | None = None
    revocable: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    source: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    # Who declared the list: "seed", "admin", or the program whose file declares it.
    declared_by: str = Field(default="seed", max_length=32, sa_column_kwargs={"server_default": "seed"})


class ListMembership(SQLModel, table=True):
    """An enterprise's membership of a list from valid_from to valid_to (inclusive; open when null)."""

    __tablename__ = "list_membership"
    __table_args__ = (UniqueConstraint("enterprise_id", "category", "valid_from"),)
    id: int | None = Field(default=None, sa_column=id_column())
    enterprise_id: int = Field(sa_column=fk_column("enterprise.id"))
    category: str = Field(foreign_key="enterprise_category.code", max_length=32, index=True)
    valid_from: date
    valid_to: date | None = None
    certificate_no: str = Field(default="", max_length=64)
    source: str = Field(default="", max_length=200)
    # Ending sets valid_to (the reason is kept); revoking stops the entry counting from revoked_on on.
    end_reason: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    revoked_on: date | None = None
    revoke_reason: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class EnterpriseAttribute(SQLModel, table=True):
    """A typed, dated fact about a firm: revenue of a fiscal year, headcount, research partner, zone."""

    __tablename__ = "enterprise_attribute"
    id: int | None = Field(default=None, sa_column=id_column())
    enterprise_id: int = Field(sa_column=fk_column("enterprise.id"))
    name: str = Field(max_length=32)
    value: str = Field(max_length=200)
    fiscal_year: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    source: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
