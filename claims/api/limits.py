"""Limits on what one request and one caller may take: credentials first, body size, 64-bit ids, rate.

Rate limits count per API key (institutions) or per staff user; requests without valid credentials
count per client address. The windows are the `limits` library's fixed windows (through flask-limiter),
counted in one of two places: in the process (claims.api.rate_counters, right for one process) or, when
settings.redis_url (REDIS_URL) is set, in Redis, so every worker of every instance counts against the same
window. Should Redis stop answering, each process counts in memory until it is back (a 500 would be worse
than a looser limit). Failed logins are counted elsewhere: in the database (claims.services.logins), which
every instance already shares and which keeps a lockout until an admin clears it.
"""
from __future__ import annotations

import re

from flask import Flask, current_app, request
from flask_limiter import Limiter
from werkzeug.routing import IntegerConverter

from claims.api import context
from claims.api.rate_counters import InProcessCounters
from claims.errors import Problem

# Anything that is not a file upload is a small JSON document or a query: 1 MiB is far above any of them.
MAX_JSON_BYTES = 2**20
_UNLIMITED_PATHS = ("/health", "/openapi.json", "/docs", "/redoc", "/errors")
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


class Int64Converter(IntegerConverter):
    """`<int:...>` path ids bounded to the database's 64-bit keys, so a longer number is a 404, not an overflow."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**63 - 1, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def caller_key() -> str:
    """The rate-limit bucket of this request: its API key, its staff user, or else its client address."""
    try:
        caller = context.principal()
    except Problem:
        return f"address:{request.remote_addr or 'unknown'}"
    if caller.is_institution:
        presented = request.headers.get("X-API-Key", "").strip()
        return "api_key:" + presented[3:].partition("_")[0]
    return caller.actor


def _per_minute() -> str:
    return f"{current_app.extensions['claims']['settings'].rate_limit_per_minute}/minute"


def _exempt() -> bool:
    return request.path.startswith(_UNLIMITED_PATHS)


def _secured_operations(app: Flask) -> set[tuple[str, str]]:
    """(rule, METHOD) pairs whose OpenAPI operation needs credentials: every documented one not marked `security: []`."""
    paths = app.extensions["claims_api"].spec.to_dict().get("paths", {})
    secured = set()
    for rule in app.url_map.iter_rules():
        operations = paths.get(re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule), {})
        for method, operation in operations.items():
            if method in _HTTP_METHODS and operation.get("security") != []:
                secured.add((rule.rule, method.upper()))
    return secured


def install_limits(app: Flask) -> Limiter:
    """Bound path ids, cap non-upload bodies at MAX_JSON_BYTES and rate-limit every caller (call before routes)."""
    app.url_map.converters["int"] = Int64Converter
    in_process = f"{InProcessCounters.STORAGE_SCHEME[0]}://"
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.extensions["claims"]["settings"].redis_url or in_process)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)

    @app.after_request
    def _retry_after_only_when_refused(response):
        # Registered before the limiter so it runs after it (Flask runs these in reverse): flask-limiter
        # sets Retry-After on every response; it means something only on 429 and 503.
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    limiter = Limiter(caller_key, app=app, application_limits=[_per_minute],
                      application_limits_exempt_when=_exempt, strategy="fixed-window")

    @app.before_request
    def _cap_json_bodies():
        # MAX_CONTENT_LENGTH (max_upload_bytes) is the ceiling for uploads; everything else gets far less.
        if request.mimetype != "multipart/form-data":
            request.max_content_length = min(MAX_JSON_BYTES, app.config["MAX_CONTENT_LENGTH"] or MAX_JSON_BYTES)

    @app.before_request
    def _credentials_before_arguments():
        # Authenticate before flask-smorest parses the body, so a stranger gets 401, never validation feedback.
        if request.url_rule is None:
            return
        ext = app.extensions["claims"]
        if "secured_operations" not in ext:
            ext["secured_operations"] = _secured_operations(app)
        if (request.url_rule.rule, request.method) in ext["secured_operations"]:
            context.principal()

    app.extensions["claims"]["limiter"] = limiter
    return limiter
