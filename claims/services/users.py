"""Use cases for staff users: creation, program grants, password change, deactivation."""
from __future__ import annotations

from sqlmodel import Session, select

from claims import auth
from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Forbidden, NotFound, Unprocessable
from claims.models import LoginThrottle, User, UserProgram
from claims.models.user import ALL_PROGRAMS, STAFF_ROLES
from claims.passwords import check_password
from claims.services.logins import user_key
from claims.settings import Settings


def _check_programs(programs: list[str], known: set[str]) -> list[str]:
    unknown = sorted(set(programs) - known - {ALL_PROGRAMS})
    if unknown or not programs:
        raise Unprocessable(f"Programs must be among the published ones or {ALL_PROGRAMS!r}.", code="invalid_programs",
                            errors={"programs": [f"unknown: {', '.join(unknown)}" if unknown else "at least one"]})
    return sorted(set(programs))


def create_user(session: Session, *, principal: Principal, s: Settings, username: str, display_name: str,
                password: str, roles: list[str], programs: list[str], known_programs: set[str]) -> User:
    """Create a staff user with roles applied to the granted programs (admin)."""
    principal.require("admin")
    unknown = sorted(set(roles) - set(STAFF_ROLES))
    if unknown or not roles:
        raise Unprocessable(f"Roles must be among {', '.join(STAFF_ROLES)}.", code="invalid_roles",
                            errors={"roles": [f"unknown: {', '.join(unknown)}" if unknown else "at least one"]})
    programs = _check_programs(programs, known_programs)
    check_password(password, min_length=s.password_min_length, min_score=s.password_min_score,
                   context=(username, display_name))
    begin_write(session)
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"User {username} already exists.", code="user_exists", errors={"username": ["taken"]})
    user = User(username=username, display_name=display_name, password_hash=auth.hash_password(password),
                roles=",".join(sorted(set(roles))))
    session.add(user)
    session.flush()
    for code in programs:
        session.add(UserProgram(user_id=user.id, program_code=code, granted_by=principal.name))
    record_event(session, actor=principal.actor, entity="user", entity_id=user.id, action="created",
                 data={"username": username, "roles": sorted(set(roles)), "programs": programs,
                       "admin": principal.name})
    session.commit()
    return user


def grant_programs(session: Session, *, principal: Principal, user_id: int, programs: list[str],
                   known_programs: set[str]) -> list[str]:
    """Replace the programs a user's roles apply to (admin); audited with the before and after."""
    principal.require("admin")
    programs = _check_programs(programs, known_programs)
    begin_write(session)
    user = get_user(session, principal=principal, user_id=user_id)
    before = sorted(session.exec(select(UserProgram.program_code).where(UserProgram.user_id == user.id)))
    session.execute(UserProgram.__table__.delete().where(UserProgram.user_id == user.id))
    for code in programs:
        session.add(UserProgram(user_id=user.id, program_code=code, granted_by=principal.name))
    record_event(session, actor=principal.actor, entity="user", entity_id=user.id, action="programs_granted",
                 data={"before": before, "after": programs, "admin": principal.name})
    session.commit()
    return programs


def get_user(session: Session, *, principal: Principal, user_id: int) -> User:
    """One staff user (admin) or 404."""
    principal.require("admin")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def list_users(session: Session, *, principal: Principal) -> list[dict]:
    """Every staff user with grants and lock state (admin), for the user-management screen."""
    principal.require("admin")
    grants: dict[int, list[str]] = {}
    for grant in session.exec(select(UserProgram).order_by(UserProgram.program_code)):
        grants.setdefault(grant.user_id, []).append(grant.program_code)
    locked = {row.key for row in session.exec(select(LoginThrottle).where(LoginThrottle.locked_at.is_not(None)))}
    return [{**user.model_dump(exclude={"password_hash"}), "roles": sorted(user.role_set),
             "programs": grants.get(user.id, []), "locked": user_key(user.username) in locked}
            for user in session.exec(select(User).order_by(User.id))]


def change_password(session: Session, *, principal: Principal, s: Settings, current_password: str,
                    new_password: str) -> int:
    """Change the caller's own password; every session of the user ends. Returns how many ended."""
    if principal.user_id is None:
        raise Forbidden("Only a staff user has a password.", code="staff_only")
    user = session.get(User, principal.user_id)
    try:
        auth.authenticate_user(session, username=user.username, password=current_password)
    except Exception:  # noqa: BLE001 - any failure is "wrong current password" here, never a 401 on the session
        raise Unprocessable("The current password is wrong.", code="current_password_wrong",
                            errors={"current_password": ["wrong"]}) from None
    check_password(new_password, min_length=s.password_min_length, min_score=s.password_min_score,
                   context=(user.username, user.display_name, current_password))
    begin_write(session)
    user = session.get(User, principal.user_id)
    user.password_hash = auth.hash_password(new_password)
    user.password_changed_at = auth.utcnow()
    session.add(user)
    ended = auth.revoke_sessions(session, user_id=user.id, reason="password_changed")
    record_event(session, actor=principal.actor, entity="user", entity_id=user.id, action="password_changed",
                 data={"sessions_ended": ended})
    session.commit()
    return ended


def set_active(session: Session, *, principal: Principal, user_id: int, active: bool) -> User:
    """Deactivate a user and end all their sessions, or reactivate them (admin); audited."""
    principal.require("admin")
    begin_write(session)
    user = get_user(session, principal=principal, user_id=user_id)
    if user.id == principal.user_id and not active:
        raise Conflict("An administrator cannot deactivate their own account.", code="self_deactivation")
    user.active = active
    session.add(user)
    ended = 0 if active else auth.revoke_sessions(session, user_id=user.id, reason="deactivated")
    record_event(session, actor=principal.actor, entity="user", entity_id=user.id,
                 action="activated" if active else "deactivated",
                 data={"sessions_ended": ended, "admin": principal.name})
    session.commit()
    return user
