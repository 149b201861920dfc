"""Notifications for institutions that poll: GET /events, paged, oldest first, since a time."""
from __future__ import annotations

from flask.views import MethodView
from claims.api.spec import Blueprint, EVERYONE, allow
from marshmallow import fields, validate

from claims.api import context
from claims.api.fields import StrictSchema
from claims.api.pagination import page_request, respond_page
from claims.services import events

blp = Blueprint("events", __name__, url_prefix="/events",
                description="Events (通知): what changed on an institution's claims, applications, statements")


class EventSchema(StrictSchema):
    id = fields.String(attribute="event_id", metadata={"description": "The webhook-id of its deliveries"})
    type = fields.String(metadata={"description": ", ".join(sorted(events.EVENT_TYPES))})
    institution_id = fields.Integer(allow_none=True)
    subject_type = fields.String()
    subject_id = fields.String()
    data = fields.Dict()
    created_at = fields.DateTime()


class EventQuery(StrictSchema):
    updated_since = fields.DateTime(metadata={
        "description": "Only events at or after this time (ISO 8601; without an offset it is UTC)"})
    type = fields.String(validate=validate.OneOf(sorted(events.EVENT_TYPES)))
    subject_type = fields.String(validate=validate.OneOf(["claim", "application", "statement", "admission"]))
    subject_id = fields.String(validate=validate.Length(max=64))
    institution_id = fields.Integer(metadata={"description": "Staff only: one institution's events"})


@blp.route("")
class Events(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(EventQuery, location="query")
    @blp.response(200, EventSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List events, oldest first (an institution sees its own); poll with updated_since."""
        result = events.list_events(context.session(), principal=context.principal(),
                                    page=page_request(pagination_parameters), **query)
        return respond_page(pagination_parameters, result)
