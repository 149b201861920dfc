"""Subsidy (贴息, 贴保) and reward applications: filing in the window, correction, review transitions (If-Match)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import EVERYONE, Blueprint, allow, etag, if_match
from workflows.flows import CLAIM_STATES
from claims.api.claims import ACTIONS, DecisionSchema, TransitionSchema
from claims.api.fields import Choices, Money, StrictSchema, UpdatedSince
from claims.api.idempotency import idempotent
from claims.api.pagination import page_request, respond_page
from claims.models.application import APPLICATION_KINDS
from claims.api.documents import ChecklistSchema
from claims.services import applications, evidence, periods
from claims.services.programs import loaded_rule
from workflows.rules import FEE_KINDS

blp = Blueprint("applications", __name__, url_prefix="/applications",
                description="Interest and fee subsidy applications (贴息、贴保) and institution rewards, and their review")


class ApplicationCreateSchema(StrictSchema):
    program = fields.String(required=True, validate=validate.Length(max=32), metadata={"example": "sz-tech-interest"})
    loan_id = fields.Integer(load_default=None, allow_none=True, strict=True,
                             metadata={"description": "The firm's registered loan (subsidies); none for rewards"})
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True, metadata={"description": "Last day of the program's month/quarter/year"})
    basis_fen = Money(required=True, data_key="basis", metadata={
        "description": "Interest or fee actually paid in the period (subsidies); loans issued or underwritten "
                       "in the period (rewards)"})
    fee_kind = fields.String(load_default="", validate=validate.OneOf(["", *FEE_KINDS]),
                             metadata={"description": "Fee subsidies: guarantee_fee or insurance_premium"})
    outstanding_principal_fen = Money(load_default=None, allow_none=True, data_key="outstanding_principal",
                                      metadata={"description": "Principal-based interest subsidies only"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ApplicationCorrectionSchema(StrictSchema):
    basis_fen = Money(data_key="basis")
    outstanding_principal_fen = Money(allow_none=True, data_key="outstanding_principal")
    note = fields.String(validate=validate.Length(max=2000))


class ApplicationSchema(StrictSchema):
    id = fields.Integer()
    institution_id = fields.Integer()
    program = fields.String(attribute="program_code")
    kind = fields.String(validate=validate.OneOf(APPLICATION_KINDS))
    enterprise_id = fields.Integer(allow_none=True)
    loan_id = fields.Integer(allow_none=True)
    fee_kind = fields.String(validate=validate.OneOf(["", *FEE_KINDS]))
    status = fields.String(validate=validate.OneOf(sorted(CLAIM_STATES)))
    version = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    applied_on = fields.Date()
    basis = Money(attribute="basis_fen")
    outstanding_principal = Money(attribute="outstanding_principal_fen", allow_none=True)
    computed_amount = Money(attribute="computed_fen")
    approved_amount = Money(attribute="approved_fen", allow_none=True)
    paid_amount = Money(attribute="paid_fen")
    budget_year = fields.Integer(allow_none=True)
    note = fields.String()
    submitted_at = fields.DateTime(allow_none=True)
    stage_due_on = fields.Date(allow_none=True, metadata={"description": "Working-day SLA of the current stage"})
    paid_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ApplicationDetailSchema(ApplicationSchema):
    trace = fields.List(fields.Dict(), metadata={"description": "Every step of the computation, in order"})
    decisions = fields.List(fields.Nested(DecisionSchema))
    available_actions = fields.List(fields.String(validate=validate.OneOf(ACTIONS)))
    documents = fields.Nested(ChecklistSchema, metadata={"description": "Documents required, present and missing"})


class ApplicationQuery(StrictSchema):
    status = Choices(CLAIM_STATES, metadata={"description": "One state or several, comma-separated (a review queue)"})
    program = fields.String()
    kind = fields.String(validate=validate.OneOf(APPLICATION_KINDS))
    institution_id = fields.Integer()
    loan_id = fields.Integer()
    enterprise_id = fields.Integer()
    updated_since = UpdatedSince()


class OpenPeriodQuery(StrictSchema):
    program = fields.String(validate=validate.Length(max=32), metadata={"example": "sz-tech-interest"})
    on = fields.Date(metadata={"description": "Business date (Asia/Shanghai); default today"})


class OpenPeriodSchema(StrictSchema):
    program = fields.String()
    kind = fields.String(validate=validate.OneOf(APPLICATION_KINDS))
    rule_version = fields.String()
    cadence = fields.String(metadata={"description": "month, quarter or year"})
    period_start = fields.Date()
    period_end = fields.Date()
    opens = fields.String(metadata={"format": "date", "description": "First day applications are taken"})
    closes = fields.String(metadata={"format": "date", "description": "Last day applications are taken"})
    length = fields.String(metadata={"description": "The window as the program states it"})


def _detail(application):
    session, principal = context.session(), context.principal()
    rule = loaded_rule(session, context.programs(), rule_version_id=application.rule_version_id)
    checklist = evidence.checklist_of(session, subject_type="application", subject=application, rule=rule)
    data = ApplicationDetailSchema().dump({
        **application.model_dump(), "version": application.version, "documents": evidence.checklist_data(checklist),
        "decisions": applications.decisions_of(session, application=application),
        "available_actions": [a for a in applications.flow_for(rule).actions_from(application.status, principal.roles)
                              if a in ACTIONS]})
    response = current_app.response_class(current_app.json.dumps(data), mimetype="application/json")
    return context.with_etag(response, application.version)


@blp.route("")
class Applications(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(ApplicationQuery, location="query")
    @blp.response(200, ApplicationSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List applications (an institution sees its own); filter by status for a review queue, oldest first."""
        result = applications.list_applications(context.session(), principal=context.principal(),
                                                page=page_request(pagination_parameters), **query)
        return respond_page(pagination_parameters, result)

    @allow("institution")
    @idempotent
    @etag
    @blp.arguments(ApplicationCreateSchema)
    @blp.response(201, ApplicationDetailSchema)
    def post(self, body):
        """File a draft subsidy or reward application for a period, inside the program's window; computed with its trace."""
        application = applications.file_application(context.session(), principal=context.principal(),
                                                    registry=context.programs(),
                                                    data=applications.ApplicationInput(**body), today=context.today())
        response = _detail(application)
        response.status_code = 201
        return response


@blp.route("/open-periods")
class OpenPeriods(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(OpenPeriodQuery, location="query")
    @blp.response(200, OpenPeriodSchema(many=True))
    def get(self, query):
        """The subsidy and reward periods that take applications today (or `on`), per program, with their windows."""
        context.principal()
        return periods.open_periods(context.programs(), on=query.get("on") or context.today(),
                                    program=query.get("program"))


@blp.route("/<int:application_id>")
class ApplicationById(MethodView):
    @allow(*EVERYONE)
    @etag
    @blp.response(200, ApplicationDetailSchema)
    def get(self, application_id):
        """Get an application with its trace, decisions, the actions open to you, and its ETag."""
        return _detail(applications.get_application(context.session(), principal=context.principal(),
                                                    application_id=application_id))

    @allow("institution")
    @if_match
    @blp.arguments(ApplicationCorrectionSchema)
    @blp.response(200, ApplicationDetailSchema)
    def patch(self, body, application_id):
        """Correct a draft or returned application (needs If-Match); the amount is recomputed."""
        application = applications.correct_application(
            context.session(), principal=context.principal(), registry=context.programs(),
            application_id=application_id, expected_version=context.expected_version(), changes=body,
            today=context.today())
        return _detail(application)


@blp.route("/<int:application_id>/transitions")
class ApplicationTransitions(MethodView):
    @allow("institution", "reviewer", "approver", "payer", "admin")
    @idempotent
    @if_match
    @blp.arguments(TransitionSchema)
    @blp.response(200, ApplicationDetailSchema)
    def post(self, body, application_id):
        """Take a workflow action: submit, start_review, return, resubmit, pass, approve, reject, revoke, pay, withdraw."""
        application = applications.transition_application(
            context.session(), principal=context.principal(), registry=context.programs(),
            application_id=application_id, expected_version=context.expected_version(), today=context.today(),
            **body)
        return _detail(application)
