"""Enterprises, enterprise lists and list memberships."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import Blueprint, EVERYONE, allow
from claims.api.fields import Money, StrictSchema, Uscc
from claims.api.pagination import page_request, respond_page
from claims.api.uploads import UploadSchema, uploaded_file
from claims.services import enterprises

blp = Blueprint("enterprises", __name__, description="Enterprises and enterprise lists (名单)")


class MembershipSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    category = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    certificate_no = fields.String()
    source = fields.String()


class EnterpriseSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    uscc = Uscc(required=True, metadata={"example": "91440300MA5F000007"})
    name = fields.String(required=True, validate=validate.Length(min=2, max=200),
                         metadata={"example": "深圳市示例新创科技有限公司"})
    size = fields.String(load_default="small", validate=validate.OneOf(["micro", "small", "medium", "large"]))
    annual_revenue_fen = Money(data_key="annual_revenue", allow_none=True, load_default=None)
    district = fields.String(load_default="", validate=validate.Length(max=64))
    industry = fields.String(load_default="", validate=validate.Length(max=64))


class EnterpriseDetailSchema(EnterpriseSchema):
    memberships = fields.List(fields.Nested(MembershipSchema), dump_only=True)


class EnterpriseQuery(StrictSchema):
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "Fragment of the name or 统一社会信用代码"})
    category = fields.String(metadata={"description": "Only members of this list"})
    on = fields.Date(metadata={"description": "With category: member on this date"})


class CategorySchema(StrictSchema):
    code = fields.String()
    name = fields.String()
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
    @blp.response(200, EnterpriseSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List enterprises, filtered by name or code and by list membership on a date."""
        result = enterprises.list_enterprises(context.session(), principal=context.principal(),
                                              page=page_request(pagination_parameters), **query)
        return respond_page(pagination_parameters, result)

    @allow("institution", "admin")
    @blp.arguments(EnterpriseSchema)
    @blp.response(201, EnterpriseSchema)
    def post(self, body):
        """Record an enterprise (admin or institution)."""
        return enterprises.register_enterprise(context.session(), principal=context.principal(), **body)


@blp.route("/enterprises/<int:enterprise_id>")
class EnterpriseById(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, EnterpriseDetailSchema)
    def get(self, enterprise_id):
        """Get an enterprise with its list memberships."""
        session = context.session()
        enterprise = enterprises.get_enterprise(session, principal=context.principal(), enterprise_id=enterprise_id)
        return {**enterprise.model_dump(), "memberships": enterprises.memberships_of(session,
                                                                                       enterprise_id=enterprise.id)}


@blp.route("/enterprise-categories")
class Categories(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """List the enterprise lists (国家高新技术企业, 专精特新, white lists, ...)."""
        context.principal()
        return enterprises.list_categories(context.session())


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
