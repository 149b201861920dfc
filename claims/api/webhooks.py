"""Webhook endpoints of an institution: register (secret shown once), change, rotate, delivery log, redeliver."""
from __future__ import annotations

from flask.views import MethodView
from claims.api.spec import Blueprint, allow
from marshmallow import fields, validate

from claims.api import context
from claims.api.fields import StrictSchema
from claims.api.pagination import page_request, respond_page
from claims.services import events, webhooks

blp = Blueprint("webhooks", __name__, url_prefix="/webhooks/endpoints",
                description="Webhook endpoints (回调地址), signed per Standard Webhooks 1.0")

# Stated as an enum in the contract; the service refuses anything else with webhook_event_unknown.
_EVENT_NAMES = sorted({*events.EVENT_TYPES, *(name.split(".")[0] + ".*" for name in events.EVENT_TYPES), "*"})
_EVENTS_HELP = ("Event types, `claim.*`-style groups, or `*`: " + ", ".join(sorted(events.EVENT_TYPES)))


class EndpointCreateSchema(StrictSchema):
    url = fields.String(required=True, validate=validate.Length(min=8, max=500),
                        metadata={"example": "https://hooks.bank.example/claims"})
    event_types = fields.List(fields.String(validate=validate.Length(max=64), metadata={"enum": _EVENT_NAMES}),
                              required=True, data_key="events", validate=validate.Length(min=1, max=50),
                              metadata={"description": _EVENTS_HELP})
    description = fields.String(load_default="", validate=validate.Length(max=200))


class EndpointUpdateSchema(StrictSchema):
    url = fields.String(validate=validate.Length(min=8, max=500))
    event_types = fields.List(fields.String(validate=validate.Length(max=64), metadata={"enum": _EVENT_NAMES}),
                              data_key="events",
                              validate=validate.Length(min=1, max=50))
    description = fields.String(validate=validate.Length(max=200))
    status = fields.String(validate=validate.OneOf(webhooks.ENDPOINT_STATES))


class EndpointSchema(StrictSchema):
    id = fields.Integer()
    institution_id = fields.Integer()
    url = fields.String()
    description = fields.String()
    events = fields.List(fields.String(), attribute="event_types")
    status = fields.String()
    previous_secret_expires_at = fields.DateTime(allow_none=True, metadata={
        "description": "Until then, requests carry a second signature made with the previous secret"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(metadata={"description": "whsec_… signing secret. Shown once: store it now."})


class AttemptSchema(StrictSchema):
    attempted_at = fields.DateTime()
    status_code = fields.Integer(allow_none=True)
    error = fields.String()
    duration_ms = fields.Integer()
    trigger = fields.String()


class DeliverySchema(StrictSchema):
    id = fields.Integer()
    event_id = fields.String(metadata={"description": "webhook-id"})
    event_type = fields.String()
    status = fields.String(metadata={"description": "pending, delivered or failed"})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String()
    delivered_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    log = fields.List(fields.Nested(AttemptSchema))


class DeliveryQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(["pending", "delivered", "failed"]))


def _with_secret(endpoint, secret: str) -> dict:
    return {**endpoint.model_dump(), "secret": secret}


def _delivery(delivery, event, attempts) -> dict:
    return {**delivery.model_dump(), "event_id": event.event_id, "event_type": event.type, "log": attempts}


@blp.route("")
class Endpoints(MethodView):
    @allow("institution", "admin", "auditor")
    @blp.response(200, EndpointSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """List your webhook endpoints."""
        result = webhooks.list_endpoints(context.session(), principal=context.principal(),
                                         page=page_request(pagination_parameters))
        return respond_page(pagination_parameters, result)

    @allow("institution")
    @blp.arguments(EndpointCreateSchema)
    @blp.response(201, EndpointWithSecretSchema)
    def post(self, body):
        """Register an endpoint (https, a host the bureau allows); the signing secret is in this answer only."""
        endpoint, secret = webhooks.register_endpoint(context.session(), principal=context.principal(),
                                                      settings=context.settings(), **body)
        return _with_secret(endpoint, secret)


@blp.route("/<int:endpoint_id>")
class EndpointById(MethodView):
    @allow("institution", "admin", "auditor")
    @blp.response(200, EndpointSchema)
    def get(self, endpoint_id):
        """Get an endpoint (without its secret)."""
        return webhooks.get_endpoint(context.session(), principal=context.principal(), endpoint_id=endpoint_id)

    @allow("institution")
    @blp.arguments(EndpointUpdateSchema)
    @blp.response(200, EndpointSchema)
    def patch(self, body, endpoint_id):
        """Change an endpoint's URL, events, description, or disable it."""
        return webhooks.update_endpoint(context.session(), principal=context.principal(), settings=context.settings(),
                                        endpoint_id=endpoint_id, changes=body)


@blp.route("/<int:endpoint_id>/secret")
class EndpointSecret(MethodView):
    @allow("institution")
    @blp.response(200, EndpointWithSecretSchema)
    def post(self, endpoint_id):
        """Rotate the signing secret: the new one is shown once; the old one also signs during the overlap."""
        endpoint, secret = webhooks.rotate_secret(context.session(), principal=context.principal(),
                                                  endpoint_id=endpoint_id,
                                                  overlap_hours=context.settings().webhook_secret_overlap_hours)
        return _with_secret(endpoint, secret)


@blp.route("/<int:endpoint_id>/deliveries")
class EndpointDeliveries(MethodView):
    @allow("institution", "admin", "auditor")
    @blp.arguments(DeliveryQuery, location="query")
    @blp.response(200, DeliverySchema(many=True))
    @blp.paginate()
    def get(self, query, endpoint_id, pagination_parameters):
        """The endpoint's delivery log, newest first, each with its attempts."""
        session = context.session()
        result = webhooks.deliveries_of(session, principal=context.principal(), endpoint_id=endpoint_id,
                                        page=page_request(pagination_parameters), **query)
        attempts = webhooks.attempts_of(session, delivery_ids=[d.id for d, _ in result.items])
        pagination_parameters.item_count = result.total
        return [_delivery(d, e, attempts[d.id]) for d, e in result.items]


@blp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
class Redeliver(MethodView):
    @allow("institution")
    @blp.response(202, DeliverySchema)
    def post(self, endpoint_id, delivery_id):
        """Send a delivery again (same webhook-id) at the next delivery run, with a fresh set of attempts."""
        session = context.session()
        delivery, event = webhooks.redeliver(session, principal=context.principal(), endpoint_id=endpoint_id,
                                             delivery_id=delivery_id)
        return _delivery(delivery, event, webhooks.attempts_of(session, delivery_ids=[delivery.id])[delivery.id])
