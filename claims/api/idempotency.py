"""Idempotency-Key for institutions' writes: the first response is stored and replayed on retries.

Same key and same body replays the first response (status, body, ETag, Location); the same key with
another body is 422. The key is claimed, the use case run and its response stored in ONE transaction
(`held_unit_of_work`): a worker that dies before the commit leaves neither the effect nor the key, and
one that dies after it leaves both, so a retry either runs the use case afresh or replays its answer —
never both. A concurrent retry of the same key waits on the key's unique index (PostgreSQL) or the
writer lock (SQLite) and then replays. Only successful responses are kept: an error rolls the key back
with everything else, so the corrected request can go through.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import json
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from claims.api import context
from claims.db import held_unit_of_work
from claims.errors import Conflict, Unprocessable
from claims.models import IdempotencyKey
from claims.models.base import utcnow

_REPLAYED_HEADERS = ("ETag", "Location", "Content-Type")
# Rows left "in_flight" by the earlier design (key claimed in its own transaction) are taken over after this.
IN_FLIGHT_TIMEOUT = timedelta(seconds=60)


def _fingerprint() -> str:
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + request.get_data()).hexdigest()


class _Unsuccessful(Exception):
    """The use case answered with an error status: roll everything back, the key included."""

    def __init__(self, response):
        super().__init__(response.status_code)
        self.response = response


def idempotent(view):
    """Make a write view honour the Idempotency-Key header."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        if len(key) > 200:
            raise Unprocessable("Idempotency-Key is longer than 200 characters.", code="idempotency_key_invalid")
        principal = context.principal()
        fingerprint = _fingerprint()
        session = context.session()
        try:
            with held_unit_of_work(session):
                existing = session.exec(select(IdempotencyKey).where(IdempotencyKey.principal == principal.actor,
                                                                     IdempotencyKey.key == key)).first()
                if existing is not None and not _take_over(session, existing, fingerprint):
                    return _replay(existing, fingerprint)
                record = IdempotencyKey(principal=principal.actor, key=key, method=request.method, path=request.path,
                                        fingerprint=fingerprint)
                session.add(record)
                session.flush()  # PostgreSQL: a concurrent request with this key waits here until we end
                response = current_app.make_response(view(*args, **kwargs))
                if response.status_code >= 300:
                    raise _Unsuccessful(response)
                record.state = "done"
                record.response_status = response.status_code
                record.response_body = response.get_data(as_text=True)
                record.response_headers = json.dumps({h: response.headers[h] for h in _REPLAYED_HEADERS
                                                      if h in response.headers})
                session.add(record)
            return response
        except _Unsuccessful as unsuccessful:
            return unsuccessful.response
        except IntegrityError as error:
            if "idempotency_key" not in str(error.orig).lower():
                raise
            # Another request with this key committed first (we waited on its unique index): replay it.
            session.rollback()
            existing = session.exec(select(IdempotencyKey).where(IdempotencyKey.principal == principal.actor,
                                                                 IdempotencyKey.key == key)).one()
            response = _replay(existing, fingerprint)
            session.commit()
            return response

    # State it in the contract: finish_spec adds the Idempotency-Key parameter and Idempotent-Replayed header.
    wrapper._apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
    wrapper._apidoc.setdefault("manual_doc", {})["x-idempotent"] = True
    return wrapper


def _take_over(session, existing: IdempotencyKey, fingerprint: str) -> bool:
    """Take over a key left in flight by a dead worker: a compare-and-set delete, so one retry wins."""
    if existing.state == "done" or existing.fingerprint != fingerprint:
        return False
    if utcnow() - existing.created_at <= IN_FLIGHT_TIMEOUT:
        return False
    taken = session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id,
                                                         IdempotencyKey.state != "done",
                                                         IdempotencyKey.created_at == existing.created_at))
    session.expunge(existing)
    return taken.rowcount == 1


def _replay(existing: IdempotencyKey, fingerprint: str):
    if existing.fingerprint != fingerprint:
        raise Unprocessable("This Idempotency-Key was used with a different request.", code="idempotency_key_reused",
                            errors={"Idempotency-Key": ["already used for another request body or path"]})
    if existing.state != "done":
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.",
                       code="idempotency_in_flight")
    response = current_app.response_class(existing.response_body, status=existing.response_status)
    for name, value in json.loads(existing.response_headers or "{}").items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response
