"""Webhook delivery, run by the scheduler: each due delivery POSTed, signed per Standard Webhooks 1.0.

At least once: a delivery is marked done only after the endpoint answered 2xx, so a crash between the
request and the update sends it again, with the same webhook-id for the receiver to dedupe on. Failures
wait `webhook_backoff_seconds` doubled per attempt; after `webhook_max_attempts` the delivery is failed
(an institution may redeliver it). Due deliveries go out in event order; a failing one does not hold
back the others. The signing itself is the standardwebhooks library's (HMAC-SHA256 over id.timestamp.body).
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import requests
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from claims.db import unit_of_work
from claims.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from claims.models.base import utcnow
from claims.services import events
from claims.services.webhook_urls import UrlRefused, check_url
from claims.services.webhooks import signing_secrets

if TYPE_CHECKING:
    from reports.job_context import JobContext

log = logging.getLogger(__name__)
USER_AGENT = "claims-backend-webhooks/1.0"


@dataclass
class DeliveryCounts:
    """What one pass did."""

    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def signed_headers(event: Event, endpoint: WebhookEndpoint, *, sent_at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one request: id, timestamp, and one v1 signature per live secret."""
    body = events.body(event)
    signatures = " ".join(Webhook(secret).sign(event.event_id, sent_at, body)
                          for secret in signing_secrets(endpoint, sent_at.replace(tzinfo=None)))
    return {"webhook-id": event.event_id, "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signatures, "content-type": "application/json", "user-agent": USER_AGENT}


def _post(http: requests.Session, settings, endpoint: WebhookEndpoint, event: Event) -> tuple[int | None, str]:
    try:
        check_url(endpoint.url, allowed_hosts=settings.webhook_allowed_hosts,
                  private_addresses=settings.webhook_private_addresses)
    except UrlRefused as exc:
        return None, f"refused: {exc}"
    headers = signed_headers(event, endpoint, sent_at=datetime.now(UTC))
    try:
        # Redirects are not followed: a 3xx could point the request at an address the checks refused.
        response = http.post(endpoint.url, data=events.body(event).encode(), headers=headers,
                             timeout=settings.webhook_timeout_seconds, allow_redirects=False)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return response.status_code, "" if 200 <= response.status_code < 300 else response.text[:200]


def _record(sessions, settings, delivery_id: int, status_code: int | None, error: str, started: float, now: datetime,
            trigger: str, counts: DeliveryCounts) -> None:
    with unit_of_work(sessions) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error, delivery.updated_at = status_code, error, utcnow()
        if status_code is not None and 200 <= status_code < 300:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", utcnow(), None
            counts.delivered += 1
        elif delivery.attempts >= settings.webhook_max_attempts:
            delivery.status, delivery.next_attempt_at = "failed", None
            counts.failed += 1
        else:
            wait = settings.webhook_backoff_seconds * 2 ** (delivery.attempts - 1)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            counts.retrying += 1
        session.add(delivery)
        session.add(WebhookAttempt(delivery_id=delivery.id, endpoint_id=delivery.endpoint_id, status_code=status_code,
                                   error=error, duration_ms=int((time.monotonic() - started) * 1000), trigger=trigger))


def deliver_due(sessions, settings, *, now: datetime | None = None, limit: int = 1000,
                trigger: str = "schedule", http: requests.Session | None = None) -> DeliveryCounts:
    """Attempt every delivery due at `now` (UTC, default the clock), in event order; return the counts."""
    now = now or utcnow()
    counts = DeliveryCounts()
    with sessions() as session:
        due = session.exec(select(WebhookDelivery, WebhookEndpoint, Event)
                           .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                           .join(Event, Event.id == WebhookDelivery.event_id)
                           .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                           .order_by(WebhookDelivery.event_id, WebhookDelivery.id).limit(limit)).all()
    own_http = http is None
    http = http or requests.Session()
    try:
        for delivery, endpoint, event in due:
            if endpoint.status != "active":
                continue
            counts.attempted += 1
            started = time.monotonic()
            status_code, error = _post(http, settings, endpoint, event)
            _record(sessions, settings, delivery.id, status_code, error, started, now, trigger, counts)
    finally:
        if own_http:
            http.close()
    return counts


def webhook_delivery(ctx: "JobContext") -> dict:
    """The scheduled job: deliver what is due, and keep polling for `webhook_poll_seconds` (minutely cron)."""
    settings = ctx.deps.settings
    deadline = time.monotonic() + settings.webhook_poll_seconds
    total = DeliveryCounts()
    with requests.Session() as http:
        while True:
            counts = deliver_due(ctx.deps.sessions, settings, http=http)
            for key, value in asdict(counts).items():
                setattr(total, key, getattr(total, key) + value)
            if time.monotonic() >= deadline:
                break
            if not counts.attempted:
                time.sleep(1)
    return asdict(total)
