"""Loans: registration (one or bulk CSV/XLSX), listing with filters, status reports."""
from __future__ import annotations

from decimal import Decimal

from flask import send_file
from flask.views import MethodView
from marshmallow import ValidationError, fields, validate

from claims.api import context
from claims.api.spec import EVERYONE, Blueprint, allow, etag, if_match
from claims.api.fields import Money, Ratio, ResidentId, StrictSchema, UpdatedSince, Uscc
from claims.api.idempotency import idempotent
from claims.api.pagination import page_request, respond_page
from claims.api.uploads import UploadSchema, uploaded_file
from claims.models.loan import LOAN_STATUSES
from claims.services import loan_import, loans
from workflows.facts import SECURITY_TYPES

# Loan facts only the bank knows: kept on the loan, and labelled as declared wherever they are shown.
DECLARED_FACTS = ("security_type", "unsecured_share", "first_loan", "policy_tool", "attributes")
blp = Blueprint("loans", __name__, url_prefix="/loans", description="Loan registration (备案)")


def _plain_attributes(value: dict) -> None:
    # Attributes feed rule conditions; a JSON float would bring binary rounding into them.
    bad = [k for k, v in value.items() if not isinstance(v, (str, int, bool)) or isinstance(v, float)]
    if bad or len(value) > 50:
        raise ValidationError(f"attribute values must be text, integers or booleans: {', '.join(bad)}")


class LoanCreateSchema(StrictSchema):
    program = fields.String(required=True, validate=validate.Length(max=32), metadata={"example": "sz-sme-pool"})
    contract_no = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                metadata={"example": "JK-2026-000123"})
    enterprise_uscc = Uscc(load_default=None, metadata={
        "description": "The borrowing firm (one of enterprise_uscc or resident_id)", "example": "91440305MA1UPTX283"})
    resident_id = ResidentId(load_default=None, metadata={"description": "An individual borrower's id number",
                                                          "example": "11010519491231002X"})
    principal_fen = Money(required=True, data_key="principal")
    disbursed_on = fields.Date(required=True)
    maturity_on = fields.Date(required=True)
    annual_rate = Ratio(load_default=Decimal("0"), metadata={"description": "Annual rate as a decimal, e.g. 0.0435"})
    security_type = fields.String(load_default="unsecured", validate=validate.OneOf(sorted(SECURITY_TYPES)))
    unsecured_share = Ratio(load_default=Decimal("1"), metadata={
        "description": "Share of the principal without collateral, 0 to 1", "example": "1"})
    first_loan = fields.Boolean(load_default=False, metadata={
        "description": "The firm's first-ever loan (首贷), as the bank declares it"})
    policy_tool = fields.Boolean(load_default=False, metadata={
        "description": "Funded by a central-bank policy tool, as the bank declares it"})
    guarantor_code = fields.String(load_default=None, validate=validate.Length(max=32))
    guarantee_ratio = Ratio(load_default=None, metadata={
        "description": "Guaranteed loans: the guarantor's share of a loss, 0 to 1", "example": "0.8"})
    attributes = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), load_default=dict,
                             validate=_plain_attributes,
                             metadata={"description": "Program-specific loan attributes the bank declares (text, "
                                                      "integers, booleans); facts about the firm itself are recorded "
                                                      "on the enterprise (POST /enterprises/{id}/attributes)",
                                       "maxProperties": 50, "example": {"jobs_created": 5},
                                       "additionalProperties": {"type": ["string", "integer", "boolean"]}})


class LoanSchema(StrictSchema):
    id = fields.Integer()
    program = fields.String(attribute="program_code")
    institution_id = fields.Integer()
    contract_no = fields.String()
    enterprise_id = fields.Integer(allow_none=True)
    individual_id = fields.Integer(allow_none=True)
    principal = Money(attribute="principal_fen")
    disbursed_on = fields.Date()
    maturity_on = fields.Date()
    annual_rate = fields.String()
    security_type = fields.String()
    unsecured_share = fields.String()
    first_loan = fields.Boolean()
    policy_tool = fields.Boolean()
    guarantee_ratio = fields.String(allow_none=True)
    attributes = fields.Dict()
    status = fields.String(validate=validate.OneOf(LOAN_STATUSES))
    days_overdue = fields.Integer()
    status_on = fields.Date(allow_none=True)
    rule_version_id = fields.Integer()
    version = fields.Integer(metadata={"description": "The ETag's value; send it in If-Match to change the loan"})
    created_at = fields.DateTime()
    declared_by_bank = fields.Function(lambda _loan: list(DECLARED_FACTS), metadata={
        "description": "The facts on this loan that the bank declared and the bureau has not verified; the firm's "
                       "lists and attributes on record are read from the enterprise"})
    updated_at = fields.Function(lambda loan: _utc(loan.updated_at or loan.created_at), metadata={
        "type": "string", "format": "date-time", "description": "Last change (UTC)"})


class LoanQuery(StrictSchema):
    program = fields.String()
    status = fields.String(validate=validate.OneOf(LOAN_STATUSES))
    contract_no = fields.String()
    enterprise_uscc = Uscc()
    disbursed_from = fields.Date()
    disbursed_to = fields.Date()
    updated_since = UpdatedSince()


class StatusReportSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(sorted(loans.REPORTABLE)))
    as_of = fields.Date(required=True)
    days_overdue = fields.Integer(load_default=0, validate=validate.Range(min=0, max=36500))


class BulkRowSchema(StrictSchema):
    row = fields.Integer()
    contract_no = fields.String()
    status = fields.String()
    reasons = fields.List(fields.Dict())


class BulkReportSchema(StrictSchema):
    accepted = fields.Integer()
    rejected = fields.Integer()
    rows = fields.List(fields.Nested(BulkRowSchema), metadata={"description": "The rejected rows with reasons"})
    report_id = fields.String()
    report_url = fields.Function(lambda r: f"/loans/bulk/{r.report_id}/report")
    sha256 = fields.String()


BULK_DOC = (
    "One loan per row; the first row names the columns (English or Chinese headers; UTF-8 or GB18030 CSV, or the "
    "first sheet of an XLSX). Columns: " + "; ".join(
        f"`{name}` ({' / '.join(sorted(aliases - {name}))}){' optional' if name in loan_import.BULK_OPTIONAL else ''}"
        for name, aliases in loan_import.BULK_COLUMNS.items())
    + ". Money as `12345.60`, dates as `YYYY-MM-DD`, rates and shares as decimals (`0.0435`), flags as "
      "`true`/`false`/`是`/`否`. Good rows are registered, bad rows reported with reasons; the report CSV "
      "repeats every row with its outcome.")


def _utc(value):
    return value.isoformat() + "+00:00" if value is not None else None


@blp.route("")
class Loans(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(LoanQuery, location="query")
    @blp.response(200, LoanSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List loans (an institution sees its own), filtered by program, status, contract, firm, dates."""
        result = loans.list_loans(context.session(), principal=context.principal(),
                                  page=page_request(pagination_parameters), **query)
        return respond_page(pagination_parameters, result)

    @allow("institution")
    @idempotent
    @etag
    @blp.arguments(LoanCreateSchema)
    @blp.response(201, LoanSchema)
    def post(self, body):
        """Register one loan into a program; every failing eligibility rule is listed on refusal."""
        item = loans.LoanInput(program=body.pop("program"), **body)
        loan = loans.register_loan(context.session(), principal=context.principal(), registry=context.programs(),
                                   item=item, today=context.today())
        return loan, context.etag_header(loan.version)


@blp.route("/bulk")
class LoanBulk(MethodView):
    @allow("institution")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(200, BulkReportSchema)
    @blp.doc(description=BULK_DOC)
    def post(self, files):
        """Register loans from CSV or XLSX (up to 100 000 rows); each row is accepted or rejected with reasons."""
        upload = uploaded_file(files)
        return loan_import.bulk_register(context.session(), principal=context.principal(), registry=context.programs(),
                                   stream=upload.stream, filename=upload.filename, today=context.today(),
                                   store=context.store(), max_rows=context.settings().max_bulk_rows)


@blp.route("/bulk/<string:report_id>/report")
class LoanBulkReport(MethodView):
    @allow("institution")
    @blp.response(200, {"format": "binary", "type": "string"}, content_type="text/csv")
    def get(self, report_id):
        """Download a bulk registration's per-row report as CSV."""
        report = loans.bulk_report(principal=context.principal(), store=context.store(), report_id=report_id)
        return send_file(report, mimetype="text/csv", as_attachment=True, download_name=f"loan-report-{report_id}.csv")


@blp.route("/<int:loan_id>")
class LoanById(MethodView):
    @allow(*EVERYONE)
    @etag
    @blp.response(200, LoanSchema)
    def get(self, loan_id):
        """Get one loan, with its ETag."""
        loan = loans.get_loan(context.session(), principal=context.principal(), loan_id=loan_id)
        return loan, context.etag_header(loan.version)


@blp.route("/<int:loan_id>/status")
class LoanStatus(MethodView):
    @allow("institution")
    @idempotent
    @blp.arguments(StatusReportSchema)
    @blp.response(200, LoanSchema)
    @if_match
    def post(self, body, loan_id):
        """Report a loan current, overdue, non-performing or repaid (needs If-Match: the loan's ETag)."""
        session, principal = context.session(), context.principal()
        principal.require("institution")  # the role before the version: a reviewer learns nothing from a 412
        context.check_version(loans.get_loan(session, principal=principal, loan_id=loan_id).version)
        loan = loans.report_loan_status(session, principal=principal, loan_id=loan_id, **body)
        return loan, context.etag_header(loan.version)
