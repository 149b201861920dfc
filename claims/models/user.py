"""Finance-bureau staff who log in: users, their per-program grants, sessions and login throttles."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from claims.models.base import BigId, fk_column, id_column, timestamp_column, utcnow

STAFF_ROLES = ("reviewer", "approver", "payer", "admin", "auditor")
ALL_PROGRAMS = "*"  # a grant on every program, present and future (admins, auditors, the demo's staff)


class User(SQLModel, table=True):
    """A staff member; roles are a comma-separated subset of STAFF_ROLES, applied to the granted programs."""

    __tablename__ = "staff_user"
    id: int | None = Field(default=None, sa_column=id_column())
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=200)
    roles: str = Field(max_length=200)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    password_changed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))

    @property
    def role_set(self) -> frozenset[str]:
        """The user's roles as a set."""
        return frozenset(r for r in self.roles.split(",") if r)


class UserProgram(SQLModel, table=True):
    """A grant: the user's roles apply to this program (or to every program when program_code is '*')."""

    __tablename__ = "user_program"
    user_id: int = Field(sa_column=sa.Column(BigId, sa.ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True))
    program_code: str = Field(max_length=32, primary_key=True)
    granted_by: str = Field(default="", max_length=100)
    granted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class StaffSession(SQLModel, table=True):
    """A login: only SHA-256 hashes of its random access and refresh tokens are stored; revoked ends it."""

    __tablename__ = "staff_session"
    id: int | None = Field(default=None, sa_column=id_column())
    user_id: int = Field(sa_column=fk_column("staff_user.id", ondelete="CASCADE"))
    access_hash: str = Field(max_length=64, unique=True, index=True)
    refresh_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    access_expires_at: datetime = Field(sa_column=timestamp_column())
    refresh_expires_at: datetime = Field(sa_column=timestamp_column())
    revoked_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    revoked_reason: str = Field(default="", max_length=32)
    address: str = Field(default="", max_length=64)


class LoginThrottle(SQLModel, table=True):
    """Consecutive failed logins for one username ('user:…') or one client address ('address:…')."""

    __tablename__ = "login_throttle"
    key: str = Field(max_length=100, primary_key=True)
    failures: int = Field(default=0)
    last_failure_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    locked_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
