"""The console's one door to staff authentication: log in, resolve the session's caller, log out.

Everything the console knows about accounts and tokens goes through these functions, so a change in
how staff sessions work (opaque tokens, revocation, lockout, per-program scope) touches this module only.
The cookie holds the same token the API issues; it is resolved exactly as a bearer token is.
"""
from __future__ import annotations

from flask import request, session as cookie

from claims.auth import Principal, principal_for_token
from claims.errors import Problem
from claims.services import logins

_TOKEN, _REFRESH = "staff_token", "staff_refresh"


def log_in(db, *, username: str, password: str, settings) -> Principal:
    """Check the credentials (the API's login, with its back-off and lockout), keep the session's tokens, return the caller."""
    tokens = logins.log_in(db, s=settings, username=username, password=password, address=request.remote_addr or "")
    cookie.clear()
    cookie[_TOKEN], cookie[_REFRESH] = tokens.access_token, tokens.refresh_token
    cookie.permanent = True
    principal = principal_for_token(db, tokens.access_token)
    db.commit()
    return principal


def _resolve(db, token: str) -> Principal | None:
    try:
        return principal_for_token(db, token)
    except Problem:
        return None
    finally:
        # Resolving the caller only reads: end that transaction so a use case starts its own write cleanly.
        db.commit()


def current_principal(db, *, settings) -> Principal | None:
    """The staff member of this browser session, or None (no cookie, expired and not renewable, revoked, or not staff)."""
    token = cookie.get(_TOKEN)
    principal = _resolve(db, token) if token else None
    if principal is None and cookie.get(_REFRESH):
        # The short-lived access token expired: renew it with the session's refresh token, as an API client would.
        try:
            tokens = logins.refresh(db, s=settings, refresh_token=cookie[_REFRESH])
        except Problem:
            db.rollback()
            tokens = None
        if tokens is not None:
            cookie[_TOKEN], cookie[_REFRESH] = tokens.access_token, tokens.refresh_token
            principal = _resolve(db, tokens.access_token)
    if principal is None:
        cookie.pop(_TOKEN, None)
        cookie.pop(_REFRESH, None)
        return None
    return principal if not principal.is_institution else None


def log_out(db) -> None:
    """End the staff session server-side (revoked like an API logout) and forget its tokens."""
    token = cookie.get(_TOKEN)
    principal = _resolve(db, token) if token else None
    if principal is not None and principal.session_id is not None:
        logins.log_out(db, principal=principal)
    cookie.clear()


def configure_cookie(app, settings) -> None:
    """Session cookie flags: HttpOnly, SameSite=Lax, Secure wherever the console is not on a developer's http."""
    app.config.update(
        SESSION_COOKIE_NAME="claims_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env not in ("development", "test"),
        SESSION_COOKIE_PATH="/console",
        PERMANENT_SESSION_LIFETIME=settings.refresh_token_ttl_seconds,
    )
