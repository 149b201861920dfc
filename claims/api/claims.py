"""Loss claims: filing, correction, documents, review transitions (If-Match), recoveries."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import EVERYONE, Blueprint, allow, etag, if_match
from workflows.flows import CLAIM_STATES
from claims.api.fields import Choices, Money, StrictSchema, UpdatedSince
from claims.api.idempotency import idempotent
from claims.api.pagination import page_request, respond_page
from claims.api.documents import ChecklistSchema, DocumentAskSchema
from claims.services import claims, evidence, recoveries

blp = Blueprint("claims", __name__, url_prefix="/claims", description="Loss claims (代偿申请) and their review")

DOWNLOAD_TYPES = ("application/pdf", "image/png", "image/jpeg",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
ACTIONS = ("submit", "start_review", "return", "resubmit", "pass", "approve", "reject", "revoke", "pay", "withdraw",
           "defer", "resume")


class ClaimCreateSchema(StrictSchema):
    loan_id = fields.Integer(required=True, strict=True)
    default_on = fields.Date(required=True, metadata={"description": "First day the loan was in default"})
    outstanding_principal_fen = Money(required=True, data_key="outstanding_principal")
    unpaid_interest_fen = Money(load_default=0, data_key="unpaid_interest")
    interest_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                   validate=validate.Range(min=0, max=36500), metadata={
                                       "description": "Days of interest in unpaid_interest; default: from "
                                                      "default_on to the filing date. A program's interest-day "
                                                      "cap prorates the interest by these days."})
    recovered_before_fen = Money(load_default=0, data_key="recovered_before_claim")
    lawsuit_accepted_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Date a court accepted the institution's lawsuit, if any: court papers become required"})
    days_overdue = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=36500))
    classification = fields.String(load_default="", validate=validate.OneOf(
        ["", "normal", "special_mention", "substandard", "doubtful", "loss"]))
    requested_fen = Money(load_default=None, allow_none=True, data_key="requested_amount")
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ClaimCorrectionSchema(StrictSchema):
    default_on = fields.Date()
    outstanding_principal_fen = Money(data_key="outstanding_principal")
    unpaid_interest_fen = Money(data_key="unpaid_interest")
    interest_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=36500))
    recovered_before_fen = Money(data_key="recovered_before_claim")
    lawsuit_accepted_on = fields.Date(allow_none=True)
    days_overdue = fields.Integer(strict=True, validate=validate.Range(min=0, max=36500))
    classification = fields.String(validate=validate.OneOf(["", "normal", "special_mention", "substandard",
                                                             "doubtful", "loss"]))
    requested_fen = Money(allow_none=True, data_key="requested_amount")
    note = fields.String(validate=validate.Length(max=2000))


class TransitionSchema(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    amount_fen = Money(load_default=None, allow_none=True, data_key="amount",
                       metadata={"description": "approve only: the approved amount if reduced (≤ computed)"})
    documents_requested = fields.List(fields.Nested(DocumentAskSchema), load_default=None, metadata={
        "description": "return only: new documents the institution must attach before it resubmits"})
    voucher_no = fields.String(load_default="", validate=validate.Regexp(r"^[0-9A-Za-z\-_/]{0,64}$"),
                               metadata={"description": "pay only: the treasury's payment voucher number (凭证号)"})


class DecisionSchema(StrictSchema):
    actor = fields.String()
    role = fields.String()
    action = fields.String()
    from_state = fields.String()
    to_state = fields.String()
    reason = fields.String()
    amount = Money(attribute="amount_fen", allow_none=True)
    at = fields.DateTime()


class ClaimSchema(StrictSchema):
    id = fields.Integer()
    loan_id = fields.Integer()
    institution_id = fields.Integer()
    program = fields.String(attribute="program_code")
    status = fields.String(validate=validate.OneOf(sorted(CLAIM_STATES)))
    version = fields.Integer()
    default_on = fields.Date()
    days_overdue = fields.Integer()
    classification = fields.String()
    outstanding_principal = Money(attribute="outstanding_principal_fen")
    unpaid_interest = Money(attribute="unpaid_interest_fen")
    interest_days = fields.Integer()
    recovered_before_claim = Money(attribute="recovered_before_fen")
    lawsuit_accepted_on = fields.Date(allow_none=True)
    requested_amount = Money(attribute="requested_fen", allow_none=True)
    computed_amount = Money(attribute="computed_fen")
    approved_amount = Money(attribute="approved_fen", allow_none=True)
    paid_amount = Money(attribute="paid_fen")
    returned_to_pool = Money(attribute="returned_fen")
    ratio = fields.String()
    note = fields.String()
    submitted_at = fields.DateTime(allow_none=True)
    stage_due_on = fields.Date(allow_none=True, metadata={"description": "Working-day SLA of the current stage"})
    paid_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ClaimDetailSchema(ClaimSchema):
    shares = fields.Dict(metadata={"description": "Amount per risk-sharing party"})
    trace = fields.List(fields.Dict(), metadata={"description": "Every step of the computation, in order"})
    decisions = fields.List(fields.Nested(DecisionSchema))
    available_actions = fields.List(fields.String(validate=validate.OneOf(ACTIONS)))
    documents = fields.Nested(ChecklistSchema, metadata={"description": "Documents required, present and missing"})


class ClaimQuery(StrictSchema):
    status = Choices(CLAIM_STATES, metadata={"description": "One state or several, comma-separated (a review queue)"})
    program = fields.String()
    institution_id = fields.Integer()
    loan_id = fields.Integer()
    sla_overdue_on = fields.Date(metadata={"description": "Only claims whose stage SLA ended before this date"})
    updated_since = UpdatedSince()


class RecoveryCreateSchema(StrictSchema):
    amount_fen = Money(required=True, data_key="amount")
    costs_fen = Money(load_default=0, data_key="costs")
    recovered_on = fields.Date(required=True)


class RecoverySchema(StrictSchema):
    id = fields.Integer()
    claim_id = fields.Integer()
    amount = Money(attribute="amount_fen")
    costs = Money(attribute="costs_fen")
    returned = Money(attribute="returned_fen", metadata={"description": "Owed back to the program"})
    recovered_on = fields.Date()
    trace = fields.List(fields.Dict())


# Built once: a schema instance is stateless when dumping, and building one per response costs more than the dump.
_DETAIL_SCHEMA = ClaimDetailSchema()


def _detail(claim, *, new: bool = False):
    """The claim document with its ETag; a claim filed in this request has no decisions, files or requests to read."""
    session, principal = context.session(), context.principal()
    from claims.services.programs import loaded_rule
    from workflows.flows import review_flow

    rule = loaded_rule(session, context.programs(), rule_version_id=claim.rule_version_id)
    checklist = (evidence.new_checklist(subject_type="claim", subject=claim, rule=rule) if new
                 else evidence.checklist_of(session, subject_type="claim", subject=claim, rule=rule))
    data = _DETAIL_SCHEMA.dump({**claim.model_dump(), "version": claim.version,
                                "documents": evidence.checklist_data(checklist),
                                "decisions": [] if new else claims.decisions_of(session, claim=claim),
                                "available_actions": [a for a in review_flow("claim", rule.review_stages)
                                                      .actions_from(claim.status, principal.roles) if a in ACTIONS]})
    response = current_app.response_class(current_app.json.dumps(data), mimetype="application/json")
    return context.with_etag(response, claim.version)


@blp.route("")
class Claims(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(ClaimQuery, location="query")
    @blp.response(200, ClaimSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List claims (an institution sees its own); filter by status for a review queue, oldest first."""
        result = claims.list_claims(context.session(), principal=context.principal(),
                                    page=page_request(pagination_parameters), **query)
        return respond_page(pagination_parameters, result)

    @allow("institution")
    @idempotent
    @etag
    @blp.arguments(ClaimCreateSchema)
    @blp.response(201, ClaimDetailSchema)
    def post(self, body):
        """File a draft loss claim on a defaulted loan; the payout is computed with its trace."""
        loan_id = body.pop("loan_id")
        claim = claims.file_claim(context.session(), principal=context.principal(), registry=context.programs(),
                                  loan_id=loan_id, data=claims.ClaimInput(**body), today=context.today())
        response = _detail(claim, new=True)
        response.status_code = 201
        return response


@blp.route("/<int:claim_id>")
class ClaimById(MethodView):
    @allow(*EVERYONE)
    @etag
    @blp.response(200, ClaimDetailSchema)
    def get(self, claim_id):
        """Get a claim with its trace, decisions, the actions open to you, and its ETag."""
        return _detail(claims.get_claim(context.session(), principal=context.principal(), claim_id=claim_id))

    @allow("institution")
    @if_match
    @blp.arguments(ClaimCorrectionSchema)
    @blp.response(200, ClaimDetailSchema)
    def patch(self, body, claim_id):
        """Correct a draft or returned claim (needs If-Match); the amount is recomputed."""
        claim = claims.correct_claim(context.session(), principal=context.principal(), registry=context.programs(),
                                     claim_id=claim_id, expected_version=context.expected_version(), changes=body,
                                     today=context.today())
        return _detail(claim)


@blp.route("/<int:claim_id>/transitions")
class ClaimTransitions(MethodView):
    @allow("institution", "reviewer", "approver", "payer", "admin")
    @idempotent
    @if_match
    @blp.arguments(TransitionSchema)
    @blp.response(200, ClaimDetailSchema)
    def post(self, body, claim_id):
        """Take a workflow action (needs If-Match); `available_actions` of the claim says which are open to you.

        Institutions: submit, resubmit, withdraw. Reviewers: start_review, return, pass, reject. Approvers:
        approve (optionally a reduced `amount`), return, reject, revoke. Payers: pay. Admins: defer, resume.
        """
        claim = claims.transition_claim(context.session(), principal=context.principal(), registry=context.programs(),
                                        claim_id=claim_id, expected_version=context.expected_version(),
                                        today=context.today(), **body)
        return _detail(claim)


@blp.route("/<int:claim_id>/recoveries")
class ClaimRecoveries(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, RecoverySchema(many=True))
    def get(self, claim_id):
        """List recoveries reported on a claim."""
        session = context.session()
        claim = claims.get_claim(session, principal=context.principal(), claim_id=claim_id)
        return recoveries.recoveries_of(session, claim=claim)

    @allow("institution")
    @idempotent
    @blp.arguments(RecoveryCreateSchema)
    @blp.response(201, RecoverySchema)
    def post(self, body, claim_id):
        """Report money recovered after payment; the program's pro-rata share is booked as owed back."""
        return recoveries.record_recovery(context.session(), principal=context.principal(), registry=context.programs(),
                                      claim_id=claim_id, today=context.today(), **body)
