"""Institutions and their API keys."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import Blueprint, EVERYONE, allow
from claims.api.fields import StrictSchema, Uscc
from claims.api.pagination import page_request, respond_page
from claims.models.institution import INSTITUTION_KINDS
from claims.services import institutions

blp = Blueprint("institutions", __name__, url_prefix="/institutions", description="Banks, insurers, guarantors")


class InstitutionSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9_]{2,32}$"))
    kind = fields.String(required=True, validate=validate.OneOf(INSTITUTION_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    uscc = Uscc(required=True)
    status = fields.String(dump_only=True)


class InstitutionQuery(StrictSchema):
    kind = fields.String(validate=validate.OneOf(INSTITUTION_KINDS))


class KeyRequestSchema(StrictSchema):
    label = fields.String(load_default="", validate=validate.Length(max=100))


class KeySchema(StrictSchema):
    prefix = fields.String()
    label = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    issued_by = fields.String(metadata={"description": "The administrator who issued the key"})
    first_used_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the key was first used; a use you did not make means it leaked"})


class IssuedKeySchema(KeySchema):
    api_key = fields.String(metadata={"description": "Shown once; store it now."})


@blp.route("")
class Institutions(MethodView):
    @allow(*EVERYONE)
    @blp.arguments(InstitutionQuery, location="query")
    @blp.response(200, InstitutionSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List institutions (an institution sees only itself)."""
        result = institutions.list_institutions(context.session(), principal=context.principal(),
                                                page=page_request(pagination_parameters), **query)
        return respond_page(pagination_parameters, result)

    @allow("admin")
    @blp.arguments(InstitutionSchema)
    @blp.response(201, InstitutionSchema)
    def post(self, body):
        """Admit a new institution (admin)."""
        return institutions.create_institution(context.session(), principal=context.principal(), **body)


@blp.route("/<int:institution_id>")
class InstitutionById(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, InstitutionSchema)
    def get(self, institution_id):
        """Get one institution."""
        return institutions.get_institution(context.session(), principal=context.principal(),
                                            institution_id=institution_id)


@blp.route("/<int:institution_id>/keys")
class Keys(MethodView):
    @allow("institution", "admin")
    @blp.response(200, KeySchema(many=True))
    def get(self, institution_id):
        """List an institution's API keys: who issued each and its first use (admin, or the institution itself)."""
        return institutions.list_keys(context.session(), principal=context.principal(),
                                      institution_id=institution_id)

    @allow("admin")
    @blp.arguments(KeyRequestSchema, required=False)
    @blp.response(201, IssuedKeySchema)
    def post(self, body, institution_id):
        """Issue an API key for an institution (admin); the key is shown once."""
        key, plaintext = institutions.issue_key(context.session(), principal=context.principal(),
                                                institution_id=institution_id, label=body["label"])
        return {"prefix": key.prefix, "label": key.label, "created_at": key.created_at, "revoked_at": None,
                "api_key": plaintext}


@blp.route("/keys/<string:prefix>")
class KeyByPrefix(MethodView):
    @allow("admin")
    @blp.response(200, KeySchema)
    def delete(self, prefix):
        """Revoke an API key (admin)."""
        return institutions.revoke_key(context.session(), principal=context.principal(), prefix=prefix)
