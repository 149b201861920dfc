"""Enterprises, enterprise lists and list memberships."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import Blueprint, EVERYONE, allow
from claims.api.fields import Money, StrictSchema, Uscc
from claims.api.pagination import page_request, respond_page
from claims.api.uploads import UploadSchema, uploaded_file
from claims.services import enterprise_attributes, enterprises

blp = Blueprint("enterprises", __name__, description="Enterprises and enterprise lists (名单)")


class MembershipSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    category = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    certificate_no = fields.String()
    source = fields.String()
    end_reason = fields.String()
    revoked_on = fields.Date(allow_none=True, metadata={"description": "From this day on the entry no longer counts"})
    revoke_reason = fields.String()


class AttributeSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.OneOf(sorted(enterprise_attributes.ATTRIBUTES)))
    value = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "revenue: yuan with two decimals (\"8000000.00\"); headcount: a whole number; "
                       "research_partner: true/false; zone: a code"})
    # The service's range (enterprise_attributes: fiscal_year_invalid outside it), stated in the contract.
    fiscal_year = fields.Integer(load_default=None, allow_none=True, metadata={"minimum": 1990, "maximum": 2100})
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    source = fields.String(load_default="", validate=validate.Length(max=200))


class EnterpriseSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    uscc = Uscc(required=True, metadata={"example": "91440300MA5F000007"})
    name = fields.String(required=True, validate=validate.Length(min=2, max=200),
                         metadata={"example": "深圳市示例新创科技有限公司"})
    size = fields.String(load_default="small", validate=validate.OneOf(["micro", "small", "medium", "large"]))
    annual_revenue_fen = Money(data_key="annual_revenue", allow_none=True, load_default=None)
    district = fields.String(load_default="", validate=validate.Length(max=64))
    industry = fields.String(load_default="", validate=validate.Length(max=64))


class EnterpriseViewSchema(StrictSchema):
    """An enterprise as the caller may see it: a bank sees the facts of the firms it lends to only (else null)."""

    id = fields.Integer()
    uscc = fields.String()
    name = fields.String()
    size = fields.String(allow_none=True)
    annual_revenue_fen = Money(data_key="annual_revenue", allow_none=True)
    district = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    facts_visible = fields.Boolean(metadata={
        "description": "False when the caller is a bank that does not lend to the firm: only its identity is shown"})


class EnterpriseDetailSchema(EnterpriseViewSchema):
    memberships = fields.List(fields.Nested(MembershipSchema), dump_only=True)
    attributes = fields.List(fields.Nested(AttributeSchema), dump_only=True)


class EnterpriseQuery(StrictSchema):
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "Fragment of the name or 统一社会信用代码"})
    category = fields.String(metadata={"description": "Only members of this list"})
    on = fields.Date(metadata={"description": "With category: member on this date"})


class CategorySchema(StrictSchema):
    code = fields.String()
    name = fields.String(metadata={"description": "The list's label"})
    issuer = fields.String()
    valid_for_months = fields.Integer(allow_none=True)
    revocable = fields.Boolean()
    declared_by = fields.String(metadata={"description": "seed, admin, or the program whose file declares it"})
    source = fields.String()
    validity_note = fields.String()


class RowResultSchema(StrictSchema):
    row = fields.Integer()
    status = fields.String()
    id = fields.Integer(allow_none=True)
    reasons = fields.List(fields.Dict())


class ImportReportSchema(StrictSchema):
    accepted = fields.Integer()
    rejected = fields.Integer()
    rows = fields.List(fields.Nested(RowResultSchema))


@blp.route("/enterprises")
class Enterprises(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(EnterpriseQuery, location="query")
    @blp.response(200, EnterpriseViewSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List enterprises, filtered by name or code and by list membership on a date."""
        session, principal = context.session(), context.principal()
        result = enterprises.list_enterprises(session, principal=principal, page=page_request(pagination_parameters),
                                              **query)
        respond_page(pagination_parameters, result)
        return enterprises.as_seen_by(session, principal=principal, enterprises=list(result.items))

    @allow("institution", "admin")
    @blp.arguments(EnterpriseSchema)
    @blp.response(201, EnterpriseViewSchema)
    def post(self, body):
        """Record an enterprise (admin or institution)."""
        enterprise = enterprises.register_enterprise(context.session(), principal=context.principal(), **body)
        return {**enterprise.model_dump(), "facts_visible": True}


@blp.route("/enterprises/<int:enterprise_id>")
class EnterpriseById(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, EnterpriseDetailSchema)
    def get(self, enterprise_id):
        """Get an enterprise; its facts, list memberships and attributes only for staff and the banks that lend to it."""
        session, principal = context.session(), context.principal()
        enterprise = enterprises.get_enterprise(session, principal=principal, enterprise_id=enterprise_id)
        seen = enterprises.as_seen_by(session, principal=principal, enterprises=[enterprise], with_memberships=True)[0]
        seen["attributes"] = (enterprise_attributes.attributes_of(session, enterprise_id=enterprise.id)
                              if seen["facts_visible"] else [])
        return seen



@blp.route("/list-memberships/import")
class MembershipImport(MethodView):
    @allow("admin")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(200, ImportReportSchema)
    def post(self, files):
        """Import list memberships from CSV or XLSX (admin); each bad row is reported, good rows land."""
        upload = uploaded_file(files)
        return enterprises.import_memberships(context.session(), principal=context.principal(),
                                              stream=upload.stream, filename=upload.filename,
                                              max_rows=context.settings().max_bulk_rows)
