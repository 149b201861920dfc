"""Application errors with a stable code; the API renders each as RFC 9457 problem+json."""
from __future__ import annotations

from typing import Any


class Problem(Exception):
    """A failure the client can act on: HTTP status, stable code, human detail, per-field errors."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, errors: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.errors = errors or {}
        self.extra = extra or {}
        self.headers = headers or {}


class Unauthorized(Problem):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, code, title = 403, "forbidden", "Not allowed for your role"


class NotFound(Problem):
    status, code, title = 404, "not_found", "Not found"


class Conflict(Problem):
    status, code, title = 409, "conflict", "Conflict with the current state"


class PreconditionFailed(Problem):
    status, code, title = 412, "precondition_failed", "The resource changed since you read it"


class PayloadTooLarge(Problem):
    status, code, title = 413, "payload_too_large", "Request too large"


class UnsupportedMediaType(Problem):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class Unprocessable(Problem):
    status, code, title = 422, "validation_failed", "The request cannot be processed"


class Locked(Problem):
    status, code, title = 423, "locked", "Locked"


class PreconditionRequired(Problem):
    status, code, title = 428, "precondition_required", "If-Match is required"


class TooManyRequests(Problem):
    status, code, title = 429, "rate_limited", "Too many requests"


class ServiceUnavailable(Problem):
    status, code, title = 503, "service_unavailable", "Service temporarily unavailable"
