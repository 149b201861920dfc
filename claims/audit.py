"""Append-only audit log: events chained by a keyed HMAC, anchored by signed checkpoints of the chain head.

The key (CLAIMS_AUDIT_KEY) lives outside the database, so someone who can write the tables can neither
recompute the chain after an edit or insertion nor forge a checkpoint. A checkpoint names the head
(seq, hash) and the number of events up to it; deleting events it covers — the newest ones included — is
caught because the head it signed is gone. The head also goes into every issued statement (chain_head).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, select

from claims.db import lock_rows
from claims.models import AuditCheckpoint, AuditEvent
from claims.models.base import utcnow

GENESIS = "0" * 64
_AUDIT_LOCK = 0x4155444954  # "AUDIT": serialises appends to the chain on PostgreSQL
_LAST_HASH = select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)  # built once: every write runs it
_INSERT_EVENT = AuditEvent.__table__.insert().returning(AuditEvent.__table__.c.seq)
_LOCKED_HEAD = text("SELECT audit_chain_head(:key)")  # migration 0016: the lock lock_rows takes, then the head
_configured_key: bytes | None = None


def configure_key(key: str) -> None:
    """Set the process's audit key (create_app does, from settings); sessions may carry their own in info."""
    global _configured_key
    _configured_key = key.encode()


def _key(session: Session) -> bytes:
    key = session.info.get("audit_key")
    if key:
        return key.encode() if isinstance(key, str) else key
    if _configured_key is None:
        raise RuntimeError("no audit key: create the app (claims.app.create_app) or set session.info['audit_key']")
    return _configured_key


def plain(value: Any) -> Any:
    """A value as an audit event's data holds it: dates as ISO text, everything else as it is."""
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def canonical_json(value: Any) -> str:
    """The one serialisation hashed for an event: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(key: bytes, prev_hash: str, event: AuditEvent | _Event) -> str:
    """HMAC-SHA256, under the audit key, of the previous hash and the event's canonical content."""
    body = canonical_json({
        "at": event.at.isoformat(timespec="microseconds"), "actor": event.actor, "entity": event.entity,
        "entity_id": event.entity_id, "action": event.action, "data": event.data,
    })
    return hmac.new(key, (prev_hash + body).encode(), hashlib.sha256).hexdigest()


def hold_chain(session: Session) -> None:
    """Take the chain's lock now, ahead of this transaction's event (record_event takes it again at no cost)."""
    lock_rows(session, _AUDIT_LOCK)


def record_event(session: Session, *, actor: str, entity: str, entity_id: Any, action: str,
                 data: dict[str, Any] | None = None) -> int:
    """Append one event to the chain inside the caller's transaction; its seq."""
    session.flush()  # what the caller added goes first, as it did when the event was a unit-of-work row
    if session.get_bind().dialect.name == "postgresql":
        last = session.execute(_LOCKED_HEAD, {"key": _AUDIT_LOCK}).scalar()  # lock, then head: one round trip
    else:
        last = session.execute(_LAST_HASH).scalar()  # BEGIN IMMEDIATE already made this the only writer
    event = _Event(at=utcnow(), actor=actor, entity=entity, entity_id=str(entity_id), action=action,
                   data=json.loads(canonical_json(data or {})), prev_hash=last or GENESIS)
    # A Core insert: every write appends an event, and the unit of work's bookkeeping cost more than the row.
    return session.execute(_INSERT_EVENT, {**event.__dict__, "hash": event_hash(_key(session), event.prev_hash, event)}
                           ).scalar_one()


@dataclass
class _Event:
    """An event's hashed content, before it has a seq."""

    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    data: dict[str, Any]
    prev_hash: str


@dataclass(frozen=True)
class ChainHead:
    """The newest event of the chain: what a statement prints and a checkpoint signs."""

    seq: int
    hash: str
    count: int

    @property
    def label(self) -> str:
        """The short form printed on statements: 审计链 #seq and the first 16 hex digits of the head hash."""
        return f"#{self.seq} {self.hash[:16]}"


def chain_head(session: Session) -> ChainHead:
    """The current head of the audit chain (seq 0 and the genesis hash when it is empty)."""
    row = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    count = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    return ChainHead(seq=row.seq, hash=row.hash, count=count) if row else ChainHead(0, GENESIS, 0)


def _checkpoint_signature(key: bytes, checkpoint: AuditCheckpoint) -> str:
    message = f"checkpoint|{checkpoint.seq}|{checkpoint.head_hash}|{checkpoint.count}|{checkpoint.at.isoformat()}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def write_checkpoint(session: Session) -> AuditCheckpoint:
    """Sign the current chain head (the daily audit_checkpoint job and `claims audit-checkpoint`)."""
    lock_rows(session, _AUDIT_LOCK)
    head = chain_head(session)
    checkpoint = AuditCheckpoint(at=utcnow(), seq=head.seq, head_hash=head.hash, count=head.count, signature="")
    checkpoint.signature = _checkpoint_signature(_key(session), checkpoint)
    session.add(checkpoint)
    session.flush()
    return checkpoint


@dataclass(frozen=True)
class ChainReport:
    """The outcome of re-computing the chain and checking it against the checkpoints."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""
    checkpoints: int = 0


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Recompute every HMAC in order, then check each signed checkpoint's head is still in the chain."""
    key = _key(session)
    checkpoints = list(session.exec(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))
    for checkpoint in checkpoints:
        if not hmac.compare_digest(checkpoint.signature, _checkpoint_signature(key, checkpoint)):
            return ChainReport(False, 0, checkpoint.seq, f"checkpoint {checkpoint.id} is not signed by the audit key")
    wanted = {c.seq: c for c in checkpoints}
    prev, checked, last_seq, seen = GENESIS, 0, 0, set()
    while True:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not events:
            break
        for event in events:
            if event.prev_hash != prev:
                return ChainReport(False, checked, event.seq, "prev_hash does not match the previous event")
            if not hmac.compare_digest(event_hash(key, prev, event), event.hash):
                return ChainReport(False, checked, event.seq, "content does not match its hash")
            prev = event.hash
            checked += 1
            last_seq = event.seq
            checkpoint = wanted.get(event.seq)
            if checkpoint is not None:
                seen.add(event.seq)
            if checkpoint is not None and (checkpoint.head_hash != event.hash or checkpoint.count != checked):
                return ChainReport(False, checked, event.seq,
                                   f"event {event.seq} is not the head signed by checkpoint {checkpoint.id}")
        session.expunge_all()
    # A signed head that never came up was deleted (with whatever followed it, new events chained on or not).
    missing = [c for c in checkpoints if c.seq and wanted.get(c.seq) is c and c.seq not in seen]
    if missing:
        first = min(missing, key=lambda c: c.seq)
        return ChainReport(False, checked, first.seq,
                           f"event {first.seq}, the head signed by the checkpoint of "
                           f"{first.at.isoformat(timespec='seconds')}Z, is missing (events were deleted)",
                           len(checkpoints))
    return ChainReport(ok=True, checked=checked, checkpoints=len(checkpoints))


def _legacy_hash(prev_hash: str, event: AuditEvent) -> str:
    # Before revision 0006 the links were plain SHA-256, which anyone with write access could recompute.
    body = canonical_json({
        "at": event.at.isoformat(timespec="microseconds"), "actor": event.actor, "entity": event.entity,
        "entity_id": event.entity_id, "action": event.action, "data": event.data,
    })
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def reseal_legacy_chain(session: Session) -> AuditCheckpoint:
    """Check a pre-0006 chain link by link as plain SHA-256, re-link it with the keyed HMAC and sign its head.

    Run once after upgrading a database whose events predate the audit key (`claims audit-reseal`);
    it refuses a chain that is already keyed or whose legacy links are broken.
    """
    lock_rows(session, _AUDIT_LOCK)
    if session.exec(select(AuditCheckpoint.id).limit(1)).first() is not None:
        raise ValueError("the chain already has signed checkpoints: it is keyed, nothing to reseal")
    key, old_prev, new_prev = _key(session), GENESIS, GENESIS
    for event in list(session.exec(select(AuditEvent).order_by(AuditEvent.seq))):
        if event.prev_hash != old_prev or event.hash != _legacy_hash(old_prev, event):
            raise ValueError(f"event {event.seq} does not verify as a legacy SHA-256 link; not resealing")
        old_prev = event.hash
        event.prev_hash, event.hash = new_prev, event_hash(key, new_prev, event)
        new_prev = event.hash
        session.add(event)
    session.flush()
    return write_checkpoint(session)


def rekey_chain(session: Session, *, old_key: str) -> AuditCheckpoint:
    """Verify the chain under the old key, then re-link every event and re-sign every checkpoint under the session's key."""
    new_key, had = _key(session), "audit_key" in session.info
    saved = session.info.get("audit_key")
    session.info["audit_key"] = old_key
    try:
        report = verify_chain(session)
    finally:
        if had:
            session.info["audit_key"] = saved
        else:
            session.info.pop("audit_key")
    if not report.ok:
        raise ValueError(f"the chain does not verify under the old key (seq {report.first_broken_seq}: "
                         f"{report.reason}); not re-keying")
    lock_rows(session, _AUDIT_LOCK)
    renamed, prev = {}, GENESIS
    for event in list(session.exec(select(AuditEvent).order_by(AuditEvent.seq))):
        event.prev_hash, old = prev, event.hash
        event.hash = prev = event_hash(new_key, prev, event)
        renamed[old] = event.hash
        session.add(event)
    for checkpoint in session.exec(select(AuditCheckpoint)):
        checkpoint.head_hash = renamed.get(checkpoint.head_hash, checkpoint.head_hash)
        checkpoint.signature = _checkpoint_signature(new_key, checkpoint)
        session.add(checkpoint)
    session.flush()
    record_event(session, actor="system", entity="audit", entity_id="chain", action="rekeyed",
                 data={"events": len(renamed)})
    return write_checkpoint(session)
