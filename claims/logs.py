"""Logs without personal data: identifiers masked in every record, one structured line per request.

统一社会信用代码 and 居民身份证号 are masked (first 6 and last 4 characters kept) in the text of every log
record, whoever logs it — werkzeug's access lines with their query strings included — by a log record
factory, so no handler or formatter can see them in clear. The same masking applies to the values that
error responses echo (claims.api.problems).
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, g, request

# An 18-character USCC (its alphabet has no I, O, S, V, Z) or an 18-character resident id (17 digits and
# a digit or X), standing alone. Both are 18 characters of the USCC alphabet, so one pattern finds both.
IDENTIFIER = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{18}(?![0-9A-Za-z])", re.IGNORECASE)
_installed = False
request_log = logging.getLogger("claims.request")


def _mask_one(match: re.Match) -> str:
    text = match.group(0)
    # 18 characters and at least one digit beyond the first two: a code, not an English word.
    if sum(c.isdigit() for c in text) < 6:
        return text
    return text[:6] + "*" * 8 + text[-4:]


def mask_identifiers(text: str) -> str:
    """The text with every USCC and resident id masked to its first 6 and last 4 characters."""
    return IDENTIFIER.sub(_mask_one, text) if len(text) >= 18 else text


def mask_value(value):
    """Mask identifiers inside strings, lists and dicts (echoed error values)."""
    if isinstance(value, str):
        return mask_identifiers(value)
    if isinstance(value, dict):
        return {mask_value(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    return value


def install_logging(level: int = logging.INFO) -> None:
    """Configure the root logger once and make every log record mask identifiers as it is created."""
    global _installed
    if _installed:
        return
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    previous = logging.getLogRecordFactory()

    def masked_record(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logged as it came, never lost
            return record
        record.msg, record.args = mask_identifiers(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_identifiers(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(masked_record)
    _installed = True


def request_id() -> str:
    """The request id the API sets (X-Request-Id), or one made here when it has not."""
    rid = g.get("request_id")
    if not rid:
        rid = g.get("_log_request_id") or uuid.uuid4().hex
        g._log_request_id = rid
    return rid


def install_request_log(app: Flask) -> None:
    """Log one JSON line per request: request id, principal, route template, status and duration."""

    @app.before_request
    def _start_clock():
        g._started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.get("_started")
        principal = g.get("principal")
        rule = request.url_rule.rule if request.url_rule is not None else mask_identifiers(request.path)[:200]
        request_log.info(json.dumps({
            "request_id": request_id(), "principal": principal.actor if principal else "anonymous",
            "method": request.method, "route": rule, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        }, ensure_ascii=False))
        return response
