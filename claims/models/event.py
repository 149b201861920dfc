"""The event outbox and webhook delivery: events written with the change that caused them, sent later."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from claims.models.base import empty_dict, empty_list, fk_column, id_column, json_column, timestamp_column, utcnow


class Event(SQLModel, table=True):
    """One notification for an institution, inserted in the same transaction as the change it reports."""

    __tablename__ = "event"
    __table_args__ = (sa.Index("ix_event_institution", "institution_id", "id"),
                      sa.Index("ix_event_subject", "subject_type", "subject_id"))
    id: int | None = Field(default=None, sa_column=id_column())
    # The Standard Webhooks message id: the same on every attempt and redelivery, so receivers dedupe on it.
    event_id: str = Field(max_length=40, unique=True)
    type: str = Field(max_length=64, index=True)
    institution_id: int | None = Field(default=None, sa_column=fk_column("institution.id", nullable=True,
                                                                         index=False))
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=empty_dict, sa_column=json_column())
    # Set for events that must happen once (a reminder per deadline, a statement version): unique.
    dedupe_key: str | None = Field(default=None, max_length=128, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(index=True))


class WebhookEndpoint(SQLModel, table=True):
    """An institution's HTTPS endpoint, the event types it takes, and its signing secrets."""

    __tablename__ = "webhook_endpoint"
    id: int | None = Field(default=None, sa_column=id_column())
    institution_id: int = Field(sa_column=fk_column("institution.id"))
    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=200)
    event_types: list[str] = Field(default_factory=empty_list, sa_column=json_column())
    status: str = Field(default="active", max_length=16)
    secret: str = Field(max_length=100)
    # After a rotation the old secret signs too until it expires, so receivers can switch without a gap.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one endpoint: pending until delivered, retried with back-off, failed at the end."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.UniqueConstraint("endpoint_id", "event_id"),
                      sa.Index("ix_webhook_delivery_due", "status", "next_attempt_at", "id"))
    id: int | None = Field(default=None, sa_column=id_column())
    endpoint_id: int = Field(sa_column=fk_column("webhook_endpoint.id", index=False))
    event_id: int = Field(sa_column=fk_column("event.id"))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=True))
    last_status_code: int | None = None
    last_error: str = Field(default="", max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt of a delivery: the endpoint's delivery log."""

    __tablename__ = "webhook_attempt"
    id: int | None = Field(default=None, sa_column=id_column())
    delivery_id: int = Field(sa_column=fk_column("webhook_delivery.id"))
    endpoint_id: int = Field(sa_column=fk_column("webhook_endpoint.id"))
    attempted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    status_code: int | None = None
    error: str = Field(default="", max_length=500)
    duration_ms: int = 0
    trigger: str = Field(default="schedule", max_length=16)
