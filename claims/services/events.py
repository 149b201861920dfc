"""The event outbox: one row per notification, written in the transaction of the change that caused it.

An event is inserted with one pending delivery per subscribed webhook endpoint of its institution, in
the caller's transaction and never committed here: when the change rolls back, its event and its
deliveries vanish with it, and when it commits nothing can lose them. reports/webhooks.py sends them.
"""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from sqlmodel import Session, select

from claims.auth import Principal
from claims.models import Event, WebhookDelivery, WebhookEndpoint
from claims.paging import Page, PageRequest, fetch_page
from workflows.money import format_fen

# A transition's action named as its event (close_uncorrected is an automatic withdrawal).
EVENT_OF_ACTION = {
    "submit": "submitted", "resubmit": "resubmitted", "start_review": "review_started", "return": "returned",
    "pass": "first_review_passed", "approve": "approved", "revoke": "approval_revoked", "pay": "paid",
    "reject": "rejected", "withdraw": "withdrawn", "close_uncorrected": "withdrawn", "defer": "deferred",
    "resume": "resumed", "hold": "deferred",
}
SUBJECT_EVENTS = (*dict.fromkeys(EVENT_OF_ACTION.values()), "deadline_due_soon")
EVENT_TYPES = {
    **{f"claim.{name}": f"代偿申请 {name}" for name in SUBJECT_EVENTS},
    **{f"application.{name}": f"贴息贴保或奖励申请 {name}" for name in SUBJECT_EVENTS},
    "statement.issued": "结算单已出具", "breaker.tripped": "熔断触发", "breaker.lifted": "熔断解除",
}
ALL_EVENTS = "*"


def new_event_id() -> str:
    """A fresh Standard Webhooks message id (msg_ + 32 hex digits)."""
    return f"msg_{uuid.uuid4().hex}"


def subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    """Whether an endpoint takes events of a type (`*` takes every type, `claim.*` every claim event)."""
    for pattern in endpoint.event_types:
        if pattern == ALL_EVENTS or pattern == event_type or (
                pattern.endswith(".*") and event_type.startswith(pattern[:-1])):
            return True
    return False


def emit(session: Session, *, type: str, institution_id: int | None, subject_type: str, subject_id,
         data: dict, dedupe_key: str | None = None) -> Event | None:
    """Write one event and its pending deliveries in the caller's transaction; None if the dedupe key exists."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if dedupe_key is not None and session.exec(select(Event.id).where(Event.dedupe_key == dedupe_key)).first():
        return None
    event = Event(event_id=new_event_id(), type=type, institution_id=institution_id, subject_type=subject_type,
                  subject_id=str(subject_id), data=data, dedupe_key=dedupe_key)
    session.add(event)
    session.flush()
    if institution_id is not None:
        endpoints = session.exec(select(WebhookEndpoint).where(WebhookEndpoint.institution_id == institution_id,
                                                               WebhookEndpoint.status == "active")).all()
        for endpoint in endpoints:
            if subscribed(endpoint, type):
                session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id,
                                            next_attempt_at=event.created_at))
    return event


def _money(fen: int | None) -> str | None:
    return None if fen is None else format_fen(fen)


def emit_transition(session: Session, *, subject_type: str, subject, action: str, from_state: str, to_state: str,
                    reason: str = "", data: dict | None = None) -> Event | None:
    """The event of one review transition of a claim or application, in the transition's transaction."""
    payload = {
        subject_type: subject.id, "program": subject.program_code, "action": action, "from": from_state,
        "status": to_state, "reason": reason, "computed_amount": _money(subject.computed_fen),
        "approved_amount": _money(subject.approved_fen), "paid_amount": _money(subject.paid_fen),
        "stage_due_on": subject.stage_due_on.isoformat() if subject.stage_due_on else None,
        "loan_id": subject.loan_id, **(data or {}),
    }
    if subject_type == "application":
        payload.update(kind=subject.kind, fee_kind=subject.fee_kind, period_start=subject.period_start.isoformat(),
                       period_end=subject.period_end.isoformat())
    return emit(session, type=f"{subject_type}.{EVENT_OF_ACTION[action]}", institution_id=subject.institution_id,
                subject_type=subject_type, subject_id=subject.id, data=payload)


def timestamp_text(at: datetime) -> str:
    """A stored UTC timestamp as ISO 8601 with Z."""
    return at.isoformat(timespec="milliseconds") + "Z"


def payload(event: Event) -> dict:
    """The event as the Standard Webhooks payload structure: type, timestamp, data (plus our id)."""
    return {"id": event.event_id, "type": event.type, "timestamp": timestamp_text(event.created_at),
            "data": event.data}


def body(event: Event) -> str:
    """The exact request body sent for an event (the same bytes on every attempt, so signatures agree)."""
    return json.dumps(payload(event), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def list_events(session: Session, *, principal: Principal, page: PageRequest, updated_since: datetime | None = None,
                type: str | None = None, subject_type: str | None = None, subject_id: str | None = None,
                institution_id: int | None = None) -> Page[Event]:
    """Events visible to the caller, oldest first: its own for an institution, all for staff who read."""
    statement = select(Event)
    if principal.is_institution:
        statement = statement.where(Event.institution_id == principal.institution_id)
    else:
        principal.require("reviewer", "approver", "payer", "admin", "auditor")
        if institution_id is not None:
            statement = statement.where(Event.institution_id == institution_id)
    if updated_since is not None:
        # Stored timestamps are naive UTC; an offset given by the caller is honoured.
        since = updated_since if updated_since.tzinfo is None else updated_since.astimezone(UTC).replace(tzinfo=None)
        statement = statement.where(Event.created_at >= since)
    for column, value in ((Event.type, type), (Event.subject_type, subject_type), (Event.subject_id, subject_id)):
        if value is not None:
            statement = statement.where(column == value)
    return fetch_page(session, statement.order_by(Event.id), page)
