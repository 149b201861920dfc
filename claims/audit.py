"""Append-only audit log whose events are hash-chained so tampering is detectable."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from claims.db import lock_rows
from claims.models import AuditEvent
from claims.models.base import utcnow

GENESIS = "0" * 64
_AUDIT_LOCK = 0x4155444954  # "AUDIT": serialises appends to the chain on PostgreSQL
_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)  # built once: every write runs it


def canonical_json(value: Any) -> str:
    """The one serialisation hashed for an event: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    """SHA-256 over the previous hash and the event's canonical content."""
    body = canonical_json({
        "at": event.at.isoformat(timespec="microseconds"), "actor": event.actor, "entity": event.entity,
        "entity_id": event.entity_id, "action": event.action, "data": event.data,
    })
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record_event(session: Session, *, actor: str, entity: str, entity_id: Any, action: str,
                 data: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    lock_rows(session, _AUDIT_LOCK)
    last = session.exec(_LAST_HASH).first()
    event = AuditEvent(at=utcnow(), actor=actor, entity=entity, entity_id=str(entity_id), action=action,
                       data=json.loads(canonical_json(data or {})), prev_hash=last or GENESIS, hash="")
    event.hash = event_hash(event.prev_hash, event)
    session.add(event)
    session.flush()
    return event


def chain_head(session: Session) -> str:
    """The hash of the chain's last event as this transaction sees it (GENESIS while the chain is empty)."""
    return session.exec(_LAST_HASH).first() or GENESIS


@dataclass(frozen=True)
class ChainReport:
    """The outcome of re-computing the chain."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Recompute every hash in order and name the first event whose link is broken."""
    prev = GENESIS
    checked = 0
    last_seq = 0
    while True:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not events:
            return ChainReport(ok=True, checked=checked)
        for event in events:
            if event.prev_hash != prev:
                return ChainReport(False, checked, event.seq, "prev_hash does not match the previous event")
            if event_hash(prev, event) != event.hash:
                return ChainReport(False, checked, event.seq, "content does not match its hash")
            prev = event.hash
            checked += 1
            last_seq = event.seq
        session.expunge_all()
