"""Settlement statements: list (institutions see their own), download the PDF, verify its digest."""
from __future__ import annotations

from flask import send_file
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import Blueprint, EVERYONE, allow
from claims.api.fields import Money, StrictSchema
from claims.api.pagination import page_request, respond_page
from claims.api.uploads import attachment
from claims.services import statements
from claims.api.uploads import uploaded_file
from reports import signing, verification
from reports.job_context import load_schedule

blp = Blueprint("statements", __name__, url_prefix="/statements",
                description="Period-end settlement statements (结算对账单): signed PDF (PAdES), recorded SHA-256")


class StatementTotalsSchema(StrictSchema):
    opening = Money(attribute="opening_fen")
    claims_paid = Money(attribute="claims_paid_fen")
    subsidies = Money(attribute="subsidies_fen")
    rewards = Money(attribute="rewards_fen")
    recoveries_returned = Money(attribute="recoveries_returned_fen")
    net = Money(attribute="net_fen", metadata={"description": "> 0 owed to the institution; < 0 owed by it",
                                               "pattern": r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$", "example": "-1200.00"})
    period_net = Money(attribute="period_net_fen", metadata={"pattern": r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"})
    budget_used_ytd = Money(attribute="budget_used_ytd_fen")
    budget_annual = Money(attribute="budget_annual_fen")
    lines = fields.Integer()


class StatementSchema(StrictSchema):
    id = fields.Integer()
    number = fields.String()
    scope = fields.String(metadata={"description": "institution:<id>, or program for the bureau's summary"})
    institution_id = fields.Integer(allow_none=True)
    program = fields.String(attribute="program_code")
    period_label = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    version = fields.Integer()
    status = fields.String(validate=validate.OneOf(statements.VISIBLE_STATES),
                           metadata={"description": "done (current) or superseded by a later version"})
    sha256 = fields.String(metadata={"description": "SHA-256 of the PDF file as issued"})
    pages = fields.Integer()
    totals = fields.Nested(StatementTotalsSchema)
    done_at = fields.DateTime()
    issue_date = fields.Date(allow_none=True)
    interim = fields.Boolean(metadata={"description": "issued before the period closed: 期中对账单（非最终）"})
    supersedes = fields.String(metadata={"description": "which version this one replaces and what changed"})
    bank_response = fields.String(metadata={"description": "'', confirmed or disputed by the institution"})
    bank_reason = fields.String()
    bank_responded_at = fields.DateTime(allow_none=True)


class ResponseSchema(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000),
                           metadata={"description": "an optional note"})


class DisputeSchema(StrictSchema):
    # Blank is refused by the service with reason_required; the contract says so with minLength and pattern.
    reason = fields.String(required=True, validate=validate.Length(max=2000),
                           metadata={"description": "what does not agree", "minLength": 1, "pattern": r"\S"})


class StatementQuery(StrictSchema):
    program = fields.String()
    institution_id = fields.Integer()
    period_start = fields.Date()
    status = fields.String(validate=validate.OneOf(statements.VISIBLE_STATES))
    summary = fields.Boolean(metadata={"description": "true: only the bureau's program summaries"})


class VerificationSchema(StrictSchema):
    statement_id = fields.Integer()
    number = fields.String()
    status = fields.String()
    recorded_sha256 = fields.String()
    actual_sha256 = fields.String(allow_none=True)
    file_intact = fields.Boolean(metadata={"description": "the stored file still has the recorded SHA-256"})
    content_current = fields.Boolean(metadata={"description": "the ledger still gives this statement's content"})
    signed = fields.Boolean()
    signature_intact = fields.Boolean(metadata={"description": "the signed bytes are unchanged (digest matches)"})
    signature_valid = fields.Boolean(metadata={"description": "the PAdES signature itself checks out"})
    signature_trusted = fields.Boolean(metadata={"description": "signed by a certificate of the bureau's CA"})
    signature_covers_file = fields.Boolean(metadata={"description": "nothing was appended to the file after signing"})
    signed_by = fields.String()
    signed_at = fields.DateTime(allow_none=True)
    signature_summary = fields.String()
    ok = fields.Boolean(metadata={"description": "file as recorded and signature intact, valid and trusted"})


class DocumentVerificationSchema(StrictSchema):
    sha256 = fields.String()
    statement_id = fields.Integer(allow_none=True, metadata={"description": "the issued statement with this SHA-256"})
    number = fields.String()
    status = fields.String(metadata={"description": "done, superseded, or unknown when no issued statement matches"})
    signed = fields.Boolean()
    signature_intact = fields.Boolean()
    signature_valid = fields.Boolean()
    signature_trusted = fields.Boolean()
    signature_covers_file = fields.Boolean()
    signed_by = fields.String()
    signed_at = fields.DateTime(allow_none=True)
    signature_summary = fields.String()


class PdfUploadSchema(StrictSchema):
    file = Upload(required=True, metadata={"description": "a statement PDF as received"})


@blp.route("")
class Statements(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(StatementQuery, location="query")
    @blp.response(200, StatementSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List issued statements (an institution sees its own), newest period first."""
        result = statements.list_statements(context.session(), principal=context.principal(),
                                            page=page_request(pagination_parameters), **query)
        return respond_page(pagination_parameters, result)


@blp.route("/<int:statement_id>")
class StatementById(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, StatementSchema)
    def get(self, statement_id):
        """Get one statement's number, period, totals and digest."""
        return statements.get_statement(context.session(), principal=context.principal(), statement_id=statement_id)


def _respond(statement_id: int, action: str, body: dict):
    return statements.respond_to_statement(context.session(), principal=context.principal(),
                                           statement_id=statement_id, action=action, reason=body["reason"])


@blp.route("/<int:statement_id>/confirm")
class StatementConfirm(MethodView):
    @allow("institution")
    @blp.arguments(ResponseSchema)
    @blp.response(200, StatementSchema)
    def post(self, body, statement_id):
        """The institution confirms its current statement (audited, shown to the bureau)."""
        return _respond(statement_id, "confirm", body)


@blp.route("/<int:statement_id>/dispute")
class StatementDispute(MethodView):
    @allow("institution")
    @blp.arguments(DisputeSchema)
    @blp.response(200, StatementSchema)
    def post(self, body, statement_id):
        """The institution disputes its current statement with a reason (audited, shown to the bureau)."""
        return _respond(statement_id, "dispute", body)


@blp.route("/<int:statement_id>/pdf")
class StatementPdf(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, {"format": "binary", "type": "string"}, content_type="application/pdf",
                  headers={"Digest-SHA256": {"description": "SHA-256 of the PDF (hex)", "schema": {"type": "string"}}})
    def get(self, statement_id):
        """Download the statement PDF; its SHA-256 is sent as the Digest-SHA256 header."""
        row, stream = statements.statement_file(context.session(), principal=context.principal(),
                                                statement_id=statement_id, store=context.store())
        response = attachment(send_file(stream, mimetype="application/pdf"), f"{row.number}.pdf",
                              fallback=f"statement-{row.id}")
        response.headers["Digest-SHA256"] = row.sha256 or ""
        return response


@blp.route("/<int:statement_id>/verify")
class StatementVerify(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, VerificationSchema)
    def get(self, statement_id):
        """Recompute the PDF's SHA-256 and re-assemble the content from the ledger to check both still match."""
        settings = context.settings()
        return verification.verify_statement(context.session(), principal=context.principal(),
                                             registry=context.programs(), statement_id=statement_id,
                                             store=context.store(),
                                             config=load_schedule(settings.schedule_file).statement_config(),
                                             roots=signing.trust_roots(signing.credentials(settings)))


@blp.route("/verify")
class DocumentVerify(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(PdfUploadSchema, location="files")
    @blp.response(200, DocumentVerificationSchema)
    def post(self, files):
        """Check a statement PDF someone holds: its signature against the bureau's CA, and which issued one it is."""
        data = uploaded_file(files, (".pdf",)).read()
        return verification.verify_document(context.session(), principal=context.principal(), data=data,
                                            roots=signing.trust_roots(signing.credentials(context.settings())))

