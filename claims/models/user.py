"""Finance-bureau staff who log in: reviewers, approvers, payers, admins, auditors."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from claims.models.base import id_column, timestamp_column, utcnow

STAFF_ROLES = ("reviewer", "approver", "payer", "admin", "auditor")


class User(SQLModel, table=True):
    """A staff member; roles are a comma-separated subset of STAFF_ROLES."""

    __tablename__ = "staff_user"
    id: int | None = Field(default=None, sa_column=id_column())
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=200)
    roles: str = Field(max_length=200)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())

    @property
    def role_set(self) -> frozenset[str]:
        """The user's roles as a set."""
        return frozenset(r for r in self.roles.split(",") if r)
