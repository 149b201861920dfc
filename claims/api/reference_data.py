"""Open reference data: enterprise lists an admin declares, list entries ended or revoked, dated firm attributes."""
from __future__ import annotations

from flask.views import MethodView
from claims.api.spec import Blueprint, EVERYONE, allow
from marshmallow import fields, validate

from claims.api import context
from claims.api.enterprises import AttributeSchema, CategorySchema, ImportReportSchema, MembershipSchema
from claims.api.fields import StrictSchema
from claims.api.uploads import UploadSchema, uploaded_file
from claims.services import enterprise_attributes, reference_lists

blp = Blueprint("reference_data", __name__, description="Enterprise lists, list entries and firm attributes")
_CODE = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{1,31}$", error="2-32 lower-case letters, digits, '_' or '-'")


class ListDeclarationSchema(StrictSchema):
    code = fields.String(required=True, validate=_CODE)
    label = fields.String(required=True, validate=validate.Length(min=2, max=100))
    issuer = fields.String(required=True, validate=validate.Length(min=2, max=100))
    valid_for_months = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=600))
    revocable = fields.Boolean(load_default=True)
    source = fields.String(load_default="", validate=validate.Length(max=500))


class MembershipCreateSchema(StrictSchema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=32))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    certificate_no = fields.String(load_default="", validate=validate.Length(max=64))
    source = fields.String(load_default="", validate=validate.Length(max=200))


class MembershipEndSchema(StrictSchema):
    valid_to = fields.Date(required=True, metadata={"description": "The last day the entry counts"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class MembershipRevokeSchema(StrictSchema):
    revoked_on = fields.Date(required=True, metadata={"description": "From this day on the entry no longer counts"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


@blp.route("/enterprise-categories")
class Categories(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """List the enterprise lists (国家高新技术企业, 专精特新, white lists, a program's own lists, ...)."""
        context.principal()
        from claims.services import enterprises

        return enterprises.list_categories(context.session())

    @allow("admin")
    @blp.arguments(ListDeclarationSchema)
    @blp.response(201, CategorySchema)
    def post(self, body):
        """Declare a new enterprise list (admin): code, label, issuer, how long an entry may last, revocable."""
        return reference_lists.declare_list(context.session(), principal=context.principal(), **body)


@blp.route("/enterprises/<int:enterprise_id>/memberships")
class Memberships(MethodView):
    @allow("admin")
    @blp.arguments(MembershipCreateSchema)
    @blp.response(201, MembershipSchema)
    def post(self, body, enterprise_id):
        """Put the firm on a list from a date (admin), within the list's validity rule."""
        return reference_lists.add_membership(context.session(), principal=context.principal(),
                                              enterprise_id=enterprise_id, **body)


@blp.route("/enterprises/<int:enterprise_id>/memberships/<int:membership_id>/end")
class MembershipEnd(MethodView):
    @allow("admin")
    @blp.arguments(MembershipEndSchema)
    @blp.response(200, MembershipSchema)
    def post(self, body, enterprise_id, membership_id):
        """End a list entry on a date (admin), with the reason: it counts through that day, never longer."""
        return reference_lists.end_membership(context.session(), principal=context.principal(),
                                              enterprise_id=enterprise_id, membership_id=membership_id, **body)


@blp.route("/enterprises/<int:enterprise_id>/memberships/<int:membership_id>/revoke")
class MembershipRevoke(MethodView):
    @allow("admin")
    @blp.arguments(MembershipRevokeSchema)
    @blp.response(200, MembershipSchema)
    def post(self, body, enterprise_id, membership_id):
        """Revoke a list entry (admin), with the reason: it stops counting from that day; its history stays."""
        return reference_lists.revoke_membership(context.session(), principal=context.principal(),
                                                 enterprise_id=enterprise_id, membership_id=membership_id, **body)


@blp.route("/enterprises/<int:enterprise_id>/attributes")
class Attributes(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, AttributeSchema(many=True))
    def get(self, enterprise_id):
        """The typed, dated attributes recorded on the firm."""
        context.principal()
        return enterprise_attributes.attributes_of(context.session(), enterprise_id=enterprise_id)

    @allow("admin")
    @blp.arguments(AttributeSchema)
    @blp.response(201, AttributeSchema)
    def post(self, body, enterprise_id):
        """Record a typed, dated attribute on the firm (admin): revenue of a fiscal year, headcount, partner, zone."""
        return enterprise_attributes.record_attribute(context.session(), principal=context.principal(),
                                                      enterprise_id=enterprise_id, **body)


@blp.route("/enterprise-attributes/import")
class AttributeImport(MethodView):
    @allow("admin")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(200, ImportReportSchema)
    def post(self, files):
        """Import firm attributes from CSV or XLSX (admin): uscc, name, value, fiscal_year, valid_from, valid_to."""
        upload = uploaded_file(files)
        return enterprise_attributes.import_attributes(context.session(), principal=context.principal(),
                                                       stream=upload.stream, filename=upload.filename,
                                                       max_rows=context.settings().max_bulk_rows)
