"""Draft rule versions on the programs blueprint: uploaded or copied with edits, never live, proposed later."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.fields import StrictSchema
from claims.api.programs import RuleVersionSchema, rule_document
from claims.api.spec import Blueprint, allow
from claims.services import drafts, rule_changes

blp = Blueprint("program_drafts", __name__, url_prefix="/programs",
                description="Draft rule versions: validated, never live, proposed through maker-checker (admin)")


class DraftCopySchema(StrictSchema):
    from_version = fields.String(required=True, validate=validate.Length(min=1, max=32))
    version = fields.String(required=True, validate=validate.Length(min=1, max=32))
    set = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=200)), load_default=dict, metadata={
        "description": 'Keys to change, as paths into the program document: {"compensation.uplifts[0].add": "0.15"}'})


class ProposeSchema(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


def _view(session, row) -> dict:
    change = rule_changes.pending_change(session, row)
    return {**row.model_dump(), "pending_change_id": change.id if change else None}


@blp.route("/<string:code>/drafts")
class ProgramDrafts(MethodView):
    @allow("admin")
    @blp.response(200, RuleVersionSchema(many=True))
    def get(self, code):
        """The program's draft versions (admin): saved and validated, never used by a live use case."""
        context.principal().require("admin")
        session = context.session()
        return [_view(session, row) for row in drafts.drafts_of(session, code=code)]

    @allow("admin")
    @blp.response(201, RuleVersionSchema)
    @blp.doc(requestBody={"required": True, "description": "A program file: TOML text, or the same document as JSON",
                          "content": {"application/toml": {"schema": {"type": "string"}},
                                      "application/json": {"schema": {"type": "object"}}}})
    def post(self, code):
        """Save a draft version (admin), validated like any version; a draft of the same version is replaced."""
        principal = context.principal()
        principal.require("admin")
        document, sha256 = rule_document(request)
        row = drafts.save_draft(context.session(), principal=principal, code=code, document=document, sha256=sha256)
        return _view(context.session(), row), 201


@blp.route("/<string:code>/drafts/copy")
class ProgramDraftCopy(MethodView):
    @allow("admin")
    @blp.arguments(DraftCopySchema)
    @blp.response(201, RuleVersionSchema)
    def post(self, body, code):
        """Save a draft as a copy of a stored version with some keys changed (admin), validated like an upload."""
        row = drafts.copy_to_draft(context.session(), principal=context.principal(), code=code,
                                   from_version=body["from_version"], version=body["version"], changes=body["set"])
        return _view(context.session(), row), 201


@blp.route("/<string:code>/drafts/<string:version>/propose")
class ProgramDraftPropose(MethodView):
    @allow("admin")
    @blp.arguments(ProposeSchema, required=False)
    @blp.response(200, RuleVersionSchema)
    def post(self, body, code, version):
        """Propose a draft for publication (admin): live once a second admin approves its rule change."""
        row, _ = drafts.propose_draft(context.session(), principal=context.principal(), code=code, version=version,
                                      reason=(body or {}).get("reason", ""))
        return _view(context.session(), row)
