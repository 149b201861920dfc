"""Use cases for staff users: creation and login."""
from __future__ import annotations

from sqlmodel import Session, select

from claims import auth
from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Unprocessable
from claims.models import User
from claims.models.user import STAFF_ROLES


def create_user(session: Session, *, principal: Principal, username: str, display_name: str, password: str,
                roles: list[str]) -> User:
    """Create a staff user with roles (admin)."""
    principal.require("admin")
    unknown = sorted(set(roles) - set(STAFF_ROLES))
    if unknown or not roles:
        raise Unprocessable(f"Roles must be among {', '.join(STAFF_ROLES)}.", code="invalid_roles",
                            errors={"roles": [f"unknown: {', '.join(unknown)}" if unknown else "at least one"]})
    if len(password) < 10:
        raise Unprocessable("The password must have at least 10 characters.", code="weak_password",
                            errors={"password": ["at least 10 characters"]})
    begin_write(session)
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"User {username} already exists.", code="user_exists", errors={"username": ["taken"]})
    user = User(username=username, display_name=display_name, password_hash=auth.hash_password(password),
                roles=",".join(sorted(set(roles))))
    session.add(user)
    session.flush()
    record_event(session, actor=principal.actor, entity="user", entity_id=user.id, action="created",
                 data={"username": username, "roles": sorted(set(roles))})
    session.commit()
    return user


def log_in(session: Session, *, username: str, password: str, secret_key: str) -> tuple[User, str]:
    """Check credentials and issue an expiring bearer token."""
    user = auth.authenticate_user(session, username=username, password=password)
    return user, auth.issue_token(user, secret_key=secret_key)
