"""Request plumbing: the session per request, the authenticated caller, security headers."""
from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, current_app, g, has_request_context, request
from sqlmodel import Session

from claims.auth import Principal, principal_for_api_key, principal_for_token
from claims.db import end_read
from claims.errors import Unauthorized
from claims.settings import Settings


def settings() -> Settings:
    """The running application's settings."""
    return current_app.extensions["claims"]["settings"]


def store():
    """The object store the settings choose (claims.storage)."""
    from claims.storage import store_for

    return store_for(settings())


def programs():
    """The published rule versions (claims.services.rulebook.PublishedRules), read from the database."""
    return current_app.extensions["claims"]["programs"]


def session() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["claims"]["sessions"]()
    return g.db_session


def principal() -> Principal:
    """The authenticated caller, or 401 when the request carries no valid credentials."""
    if "principal" not in g:
        g.principal = _authenticate()
    if g.principal is None:
        raise Unauthorized("Send X-API-Key (institutions) or Authorization: Bearer <token> (staff).",
                           code="credentials_required", headers={"WWW-Authenticate": "Bearer"})
    return g.principal


def _authenticate() -> Principal | None:
    api_key = request.headers.get("X-API-Key")
    if api_key:
        found = principal_for_api_key(session(), api_key.strip())
    else:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        found = principal_for_token(session(), token.strip())
    # Authentication only reads: end that transaction (where the database needs it) so a use case starts cleanly.
    end_read(session())
    return found


_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
# Paths whose pages run scripts and styles of their own (docs bundles, the error catalogue).
_PAGE_CSP = {"/docs": None, "/redoc": None,
             "/errors": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}


def request_id() -> str:
    """This request's id: the client's X-Request-Id when it is printable ASCII (<= 200), else a new UUID."""
    if "request_id" not in g:
        sent = request.headers.get("X-Request-Id", "").strip()
        g.request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex
    return g.request_id


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record (`%(request_id)s`; "-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def install_request_hooks(app: Flask) -> None:
    """Close the session after each request; give each response its request id and security headers."""
    from claims.api.docs import DOCS_CSP

    @app.before_request
    def _take_request_id():
        request_id()

    @app.teardown_appcontext
    def _close_session(_exc):
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.close()

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        if request.is_secure:
            # Only over HTTPS: an HSTS header on plain HTTP is ignored by browsers and would mislead.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        response.headers["X-Request-Id"] = request_id()
        prefix = next((p for p in _PAGE_CSP if request.path == p or request.path.startswith(p + "/")), None)
        csp = (_PAGE_CSP[prefix] or DOCS_CSP) if prefix else "default-src 'none'; frame-ancestors 'none'"
        response.headers.setdefault("Content-Security-Policy", csp)
        return response


def today():
    """Today's business date in the program's time zone (tests may pin it)."""
    pinned = current_app.extensions["claims"].get("today")
    if pinned is not None:
        return pinned() if callable(pinned) else pinned
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(settings().timezone)).date()


def expected_version() -> int:
    """The version the client read, from If-Match (428 when missing, 400 when it is not an ETag)."""
    from claims.errors import PreconditionRequired, Problem

    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired("Send If-Match with the ETag you read; state changes need it.",
                                   code="if_match_required")
    tag = header.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    if len(tag) < 3 or tag[0] != '"' or tag[-1] != '"' or not tag[1:-1].isdigit():
        raise Problem("If-Match must hold an ETag as this API sends it, e.g. \"3\" (quotes included).",
                      code="if_match_invalid", errors={"If-Match": ["not a quoted ETag [if_match_invalid]"]})
    return int(tag[1:-1])


def with_etag(response, version: int):
    """Attach the ETag of a versioned resource to a response."""
    response.headers["ETag"] = f'"{version}"'
    return response


def etag_header(version: int) -> dict[str, str]:
    """The ETag header of a versioned resource, for a view returning (data, headers)."""
    return {"ETag": f'"{version}"'}


def check_version(current: int) -> None:
    """Refuse with 412 unless If-Match names the current version (428 when it is missing)."""
    from claims.errors import PreconditionFailed

    if expected_version() != current:
        raise PreconditionFailed(f"The resource is at version {current}; read it again before changing it.",
                                 code="etag_mismatch")
