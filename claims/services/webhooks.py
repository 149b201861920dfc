"""Webhook endpoints of institutions: registration (secret shown once), rotation, delivery log, redelivery."""
from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Forbidden, NotFound, Unprocessable
from claims.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from claims.models.base import utcnow
from claims.paging import Page, PageRequest, fetch_page
from claims.services.events import ALL_EVENTS, EVENT_TYPES
from claims.services.webhook_urls import UrlRefused, check_url

SECRET_PREFIX = "whsec_"
MAX_ENDPOINTS = 10
ENDPOINT_STATES = ("active", "disabled")
_GROUPS = {name.split(".")[0] + ".*" for name in EVENT_TYPES}


def new_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a request now: the current one, and the previous one during a rotation's overlap."""
    keys = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and now < endpoint.previous_secret_expires_at:
        keys.append(endpoint.previous_secret)
    return keys


def _check_event_types(event_types: list[str]) -> list[str]:
    unknown = [t for t in event_types if t not in EVENT_TYPES and t not in _GROUPS and t != ALL_EVENTS]
    if unknown or not event_types:
        raise Unprocessable("Subscribe to at least one known event type.", code="webhook_event_unknown",
                            errors={"events": [f"unknown event type {t}" for t in unknown] or ["at least one"]},
                            extra={"known": sorted(EVENT_TYPES)})
    return sorted(set(event_types))


def _check_url(url: str, settings) -> str:
    try:
        return check_url(url, allowed_hosts=settings.webhook_allowed_hosts,
                         private_addresses=settings.webhook_private_addresses)
    except UrlRefused as exc:
        raise Unprocessable(f"该地址不允许作为回调地址 (webhook URL refused): {exc}.", code="webhook_url_refused",
                            errors={"url": [str(exc)]}) from exc


def register_endpoint(session: Session, *, principal: Principal, settings, url: str, event_types: list[str],
                      description: str = "") -> tuple[WebhookEndpoint, str]:
    """Register an institution's endpoint; returns it with its signing secret, which is never shown again."""
    if not principal.is_institution:
        raise Forbidden("Webhook endpoints are registered by the institution with its API key.",
                        code="institution_only")
    types = _check_event_types(event_types)
    _check_url(url, settings)
    begin_write(session)
    existing = session.exec(select(WebhookEndpoint.id).where(
        WebhookEndpoint.institution_id == principal.institution_id, WebhookEndpoint.status == "active")).all()
    if len(existing) >= MAX_ENDPOINTS:
        raise Conflict(f"An institution may have {MAX_ENDPOINTS} active endpoints.", code="webhook_endpoint_limit")
    secret = new_secret()
    endpoint = WebhookEndpoint(institution_id=principal.institution_id, url=url, description=description,
                               event_types=types, secret=secret)
    session.add(endpoint)
    session.flush()
    record_event(session, actor=principal.actor, entity="webhook_endpoint", entity_id=endpoint.id,
                 action="registered", data={"url": url, "events": types})
    session.commit()
    return endpoint, secret


def scoped_endpoints(principal: Principal):
    """The endpoints the caller may see: its own for an institution, all for admins and auditors."""
    statement = select(WebhookEndpoint)
    if principal.is_institution:
        return statement.where(WebhookEndpoint.institution_id == principal.institution_id)
    principal.require("admin", "auditor")
    return statement


def list_endpoints(session: Session, *, principal: Principal, page: PageRequest) -> Page[WebhookEndpoint]:
    """The caller's endpoints, oldest first."""
    return fetch_page(session, scoped_endpoints(principal).order_by(WebhookEndpoint.id), page)


def get_endpoint(session: Session, *, principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    """One endpoint the caller may see, or 404."""
    endpoint = session.exec(scoped_endpoints(principal).where(WebhookEndpoint.id == endpoint_id)).first()
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def _own_endpoint(session: Session, principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    if not principal.is_institution:
        raise Forbidden("Only the institution changes its webhook endpoints.", code="institution_only")
    begin_write(session)
    return get_endpoint(session, principal=principal, endpoint_id=endpoint_id)


def update_endpoint(session: Session, *, principal: Principal, settings, endpoint_id: int, changes: dict) -> WebhookEndpoint:
    """Change an endpoint's URL, events, description or status (active / disabled)."""
    endpoint = _own_endpoint(session, principal, endpoint_id)
    if "url" in changes:
        endpoint.url = _check_url(changes["url"], settings)
    if "event_types" in changes:
        endpoint.event_types = _check_event_types(changes["event_types"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "status" in changes:
        endpoint.status = changes["status"]
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    record_event(session, actor=principal.actor, entity="webhook_endpoint", entity_id=endpoint.id, action="updated",
                 data={k: v for k, v in changes.items()})
    session.commit()
    return endpoint


def rotate_secret(session: Session, *, principal: Principal, endpoint_id: int,
                  overlap_hours: int) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, shown once; the old one keeps signing alongside it for the overlap."""
    endpoint = _own_endpoint(session, principal, endpoint_id)
    now = utcnow()
    secret = new_secret()
    endpoint.previous_secret, endpoint.secret = endpoint.secret, secret
    endpoint.previous_secret_expires_at = now + timedelta(hours=overlap_hours)
    endpoint.updated_at = now
    session.add(endpoint)
    record_event(session, actor=principal.actor, entity="webhook_endpoint", entity_id=endpoint.id,
                 action="secret_rotated", data={"previous_valid_until": endpoint.previous_secret_expires_at.isoformat()})
    session.commit()
    return endpoint, secret


def deliveries_of(session: Session, *, principal: Principal, endpoint_id: int, page: PageRequest,
                  status: str | None = None) -> Page:
    """An endpoint's delivery log, newest first: (delivery, event) pairs."""
    endpoint = get_endpoint(session, principal=principal, endpoint_id=endpoint_id)
    statement = (select(WebhookDelivery, Event).join(Event, Event.id == WebhookDelivery.event_id)
                 .where(WebhookDelivery.endpoint_id == endpoint.id))
    if status:
        statement = statement.where(WebhookDelivery.status == status)
    return fetch_page(session, statement.order_by(WebhookDelivery.id.desc()), page)


def attempts_of(session: Session, *, delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    """The HTTP attempts of some deliveries, oldest first, by delivery id."""
    result: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        for attempt in session.exec(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
                                    .order_by(WebhookAttempt.id)):
            result[attempt.delivery_id].append(attempt)
    return result


def redeliver(session: Session, *, principal: Principal, endpoint_id: int,
              delivery_id: int) -> tuple[WebhookDelivery, Event]:
    """Send a delivery again at the next run, with a fresh set of attempts and the same webhook-id."""
    endpoint = _own_endpoint(session, principal, endpoint_id)
    delivery = session.exec(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                          WebhookDelivery.endpoint_id == endpoint.id)).first()
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id} on webhook endpoint {endpoint_id}.")
    before = delivery.status
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    delivery.updated_at = utcnow()
    session.add(delivery)
    record_event(session, actor=principal.actor, entity="webhook_delivery", entity_id=delivery.id,
                 action="redeliver", data={"from": before})
    session.commit()
    return delivery, session.get(Event, delivery.event_id)
