"""Idempotency-Key for institutions' writes: the first response is stored and replayed on retries.

Same key and same body replays the first response (status, body, ETag, Location); the same key with
another body is 422; a retry while the first request still runs is 409. Only successful responses are
kept: an error frees the key so the corrected request can go through.
"""
from __future__ import annotations

import functools
from datetime import timedelta
import hashlib
import json

from flask import current_app, request
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from claims.api import context
from claims.errors import Conflict, Unprocessable
from claims.models import IdempotencyKey
from claims.models.base import utcnow

_REPLAYED_HEADERS = ("ETag", "Location", "Content-Type")
IN_FLIGHT_TIMEOUT = timedelta(seconds=60)


def _fingerprint() -> str:
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + request.get_data()).hexdigest()


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
        factory = current_app.extensions["claims"]["sessions"]
        with factory() as session:
            record = IdempotencyKey(principal=principal.actor, key=key, method=request.method, path=request.path,
                                    fingerprint=fingerprint)
            session.add(record)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                existing = session.exec(select(IdempotencyKey).where(IdempotencyKey.principal == principal.actor,
                                                                     IdempotencyKey.key == key)).one()
                if existing.fingerprint != fingerprint or not _abandoned(existing):
                    return _replay(existing, fingerprint)
                # The first attempt's worker died before answering: its transaction rolled back or
                # committed; either way the use case's own guards (unique contract, open claim, If-Match)
                # decide, so the retry may run again.
                existing.created_at = utcnow()
                session.add(existing)
                session.commit()
                record = existing
            record_id = record.id
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            # Release the failed use case's write lock first: on SQLite it would block the delete below.
            context.session().rollback()
            _forget(factory, record_id)
            raise
        if response.status_code >= 300:
            context.session().rollback()
            _forget(factory, record_id)
            return response
        with factory() as session:
            stored = session.get(IdempotencyKey, record_id)
            stored.state = "done"
            stored.response_status = response.status_code
            stored.response_body = response.get_data(as_text=True)
            stored.response_headers = json.dumps({h: response.headers[h] for h in _REPLAYED_HEADERS
                                                  if h in response.headers})
            session.add(stored)
            session.commit()
        return response

    return wrapper


def _abandoned(record: IdempotencyKey) -> bool:
    return record.state != "done" and utcnow() - record.created_at > IN_FLIGHT_TIMEOUT


def _forget(factory, record_id: int) -> None:
    with factory() as session:
        stored = session.get(IdempotencyKey, record_id)
        if stored is not None:
            session.delete(stored)
            session.commit()


def _replay(existing: IdempotencyKey, fingerprint: str):
    if existing.fingerprint != fingerprint:
        raise Unprocessable("This Idempotency-Key was used with a different request.", code="idempotency_key_reused",
                            errors={"Idempotency-Key": ["already used for another request body or path"]})
    if existing.state != "done":
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.",
                       code="idempotency_in_flight", headers={"Retry-After": "1"})
    response = current_app.response_class(existing.response_body, status=existing.response_status)
    for name, value in json.loads(existing.response_headers or "{}").items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response
