"""Staff login, refresh and logout, with failed logins counted per user and per address (back-off, lockout)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from claims import auth
from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Forbidden, Locked, TooManyRequests, Unauthorized
from claims.models import LoginThrottle, StaffSession, User
from claims.models.base import utcnow
from claims.settings import Settings

# Failures older than this no longer count: a forgotten password last week does not slow today's login.
FAILURE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Tokens:
    """What a login or a refresh hands back: the user and the session's fresh tokens."""

    user: User
    session: StaffSession
    access_token: str
    refresh_token: str


def user_key(username: str) -> str:
    """The throttle key of a username (unknown usernames are counted the same way, so they reveal nothing)."""
    return "user:" + username.strip().lower()[:90]


def _live_failures(row: LoginThrottle | None, now: datetime) -> int:
    if row is None or row.last_failure_at is None or now - row.last_failure_at > FAILURE_WINDOW:
        return 0
    return row.failures


def _wait(row: LoginThrottle | None, *, free: int, s: Settings, now: datetime) -> float:
    """Seconds left before the next attempt is heard: base * 2^(failures - free), capped."""
    failures = _live_failures(row, now)
    if failures < free or not s.login_backoff_base_seconds:
        return 0.0
    delay = min(s.login_backoff_base_seconds * 2 ** (failures - free), s.login_backoff_max_seconds)
    return delay - (now - row.last_failure_at).total_seconds()


def _count_failure(session: Session, key: str, now: datetime) -> int:
    """Add one failure to a key atomically (upsert) and return the count within the window."""
    table = LoginThrottle.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    row = session.get(LoginThrottle, key)
    failures = _live_failures(row, now) + 1
    statement = dialect.insert(table).values(key=key, failures=1, last_failure_at=now)
    statement = statement.on_conflict_do_update(index_elements=["key"], set_={
        "failures": (table.c.failures + 1) if failures > 1 else 1, "last_failure_at": now})
    session.execute(statement)
    session.expire_all()
    return session.get(LoginThrottle, key).failures


def log_in(session: Session, *, s: Settings, username: str, password: str, address: str) -> Tokens:
    """Check credentials under the throttles and open a session; every failure, lock and login is audited."""
    now = utcnow()
    ukey, akey = user_key(username), "address:" + (address or "unknown")[:90]
    user_row, address_row = session.get(LoginThrottle, ukey), session.get(LoginThrottle, akey)
    if user_row is not None and user_row.locked_at is not None:
        raise Locked("账户已锁定 — the account is locked after repeated wrong passwords; an administrator "
                     "can unlock it.", code="account_locked")
    wait = max(_wait(user_row, free=s.login_backoff_after, s=s, now=now),
               _wait(address_row, free=s.address_backoff_after, s=s, now=now))
    if wait > 0:
        raise TooManyRequests(f"登录尝试过多 — too many failed logins; retry in {math.ceil(wait)} s.",
                              code="login_backoff", headers={"Retry-After": str(math.ceil(wait))})
    try:
        user = auth.authenticate_user(session, username=username, password=password)
    except Unauthorized:
        _fail(session, s=s, username=username, ukey=ukey, akey=akey, address=address, now=now)
        raise
    begin_write(session)
    session.execute(LoginThrottle.__table__.delete().where(LoginThrottle.key == ukey))
    row, access, refresh = auth.open_session(session, user, access_ttl=s.access_token_ttl_seconds,
                                             refresh_ttl=s.refresh_token_ttl_seconds, address=address)
    record_event(session, actor=f"user:{user.id}", entity="user", entity_id=user.id, action="logged_in",
                 data={"session_id": row.id, "address": address})
    session.commit()
    return Tokens(user, row, access, refresh)


def _fail(session: Session, *, s: Settings, username: str, ukey: str, akey: str, address: str,
          now: datetime) -> None:
    begin_write(session)
    user = session.exec(select(User).where(User.username == username)).first()
    failures = _count_failure(session, ukey, now)
    address_failures = _count_failure(session, akey, now)
    entity_id = user.id if user else ("unknown:" + username)[:64]
    record_event(session, actor=akey, entity="user", entity_id=entity_id, action="login_failed",
                 data={"username": username[:64], "address": address, "failures": failures,
                       "address_failures": address_failures})
    locked = failures >= s.login_lockout_failures
    if locked:
        throttle = session.get(LoginThrottle, ukey)
        throttle.locked_at = throttle.locked_at or now
        session.add(throttle)
        record_event(session, actor="system", entity="user", entity_id=entity_id, action="locked",
                     data={"username": username[:64], "failures": failures})
    session.commit()
    if locked:
        raise Locked("账户已锁定 — the account is locked after repeated wrong passwords; an administrator "
                     "can unlock it.", code="account_locked")


def refresh(session: Session, *, s: Settings, refresh_token: str) -> Tokens:
    """Trade a live refresh token for new access and refresh tokens (the old pair stops working)."""
    begin_write(session)
    row = auth.find_session(session, refresh_token=refresh_token)
    user = session.get(User, row.user_id) if row else None
    if row is None or user is None or not user.active:
        raise Unauthorized("The refresh token is not valid; log in again.", code="invalid_refresh_token")
    access, new_refresh = auth.rotate_session(session, row, access_ttl=s.access_token_ttl_seconds)
    session.commit()
    return Tokens(user, row, access, new_refresh)


def log_out(session: Session, *, principal: Principal) -> None:
    """End the caller's own session."""
    if principal.session_id is None:
        raise Forbidden("Only a staff session logs out; an institution revokes its API key.", code="staff_only")
    begin_write(session)
    auth.revoke_sessions(session, user_id=principal.user_id, reason="logout", only_id=principal.session_id)
    record_event(session, actor=principal.actor, entity="user", entity_id=principal.user_id, action="logged_out",
                 data={"session_id": principal.session_id})
    session.commit()


def unlock(session: Session, *, principal: Principal, username: str) -> bool:
    """Clear a user's failed logins and lock (admin); audited. Returns whether there was anything to clear."""
    principal.require("admin")
    begin_write(session)
    cleared = session.execute(LoginThrottle.__table__.delete().where(LoginThrottle.key == user_key(username)))
    user = session.exec(select(User).where(User.username == username)).first()
    record_event(session, actor=principal.actor, entity="user", entity_id=user.id if user else username[:64],
                 action="unlocked", data={"username": username, "admin": principal.name})
    session.commit()
    return bool(cleared.rowcount)
