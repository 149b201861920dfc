"""Settlement statements: list (institutions see their own), download the PDF, verify its digest."""
from __future__ import annotations

from flask import send_file
from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import Blueprint, EVERYONE, allow
from claims.api.fields import Money, StrictSchema
from claims.api.pagination import page_request, respond_page
from claims.api.uploads import attachment
from claims.services import statements
from reports.jobs import load_schedule

blp = Blueprint("statements", __name__, url_prefix="/statements",
                description="Period-end settlement statements (结算对账单) as PDF with a recorded SHA-256")


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


@blp.route("/<int:statement_id>/pdf")
class StatementPdf(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, {"format": "binary", "type": "string"}, content_type="application/pdf",
                  headers={"Digest-SHA256": {"description": "SHA-256 of the PDF (hex)", "schema": {"type": "string"}}})
    def get(self, statement_id):
        """Download the statement PDF; its SHA-256 is sent as the Digest-SHA256 header."""
        row, path = statements.statement_file(context.session(), principal=context.principal(),
                                              statement_id=statement_id, statements_dir=context.settings().statements_dir)
        response = attachment(send_file(path, mimetype="application/pdf"), f"{row.number}.pdf",
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
        return statements.verify_statement(context.session(), principal=context.principal(),
                                           registry=context.programs(), statement_id=statement_id,
                                           statements_dir=settings.statements_dir,
                                           config=load_schedule(settings.schedule_file).statement_config())

