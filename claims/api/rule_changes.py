"""Maker-checker on rule versions: pending publications and retirements, approved or rejected by a second admin."""
from __future__ import annotations

from flask.views import MethodView
from claims.api.spec import Blueprint, allow
from marshmallow import fields, validate

from claims.api import context
from claims.api.fields import StrictSchema
from claims.models import RuleVersion
from claims.services import rule_changes

blp = Blueprint("rule_changes", __name__, url_prefix="/rule-changes",
                description="Rule versions under maker-checker (one admin proposes, another approves)")


class RuleChangeSchema(StrictSchema):
    id = fields.Integer()
    program = fields.String()
    version = fields.String()
    version_status = fields.String()
    action = fields.String(metadata={"description": "publish or retire"})
    status = fields.String(metadata={"description": "pending, approved, rejected or superseded"})
    reason = fields.String()
    proposed_by = fields.String()
    proposed_at = fields.DateTime()
    decided_by = fields.String()
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String()


class ChangeQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(["pending", "approved", "rejected", "superseded"]))
    program = fields.String(validate=validate.Length(min=1, max=32))


class RuleDecisionSchema(StrictSchema):
    note = fields.String(load_default="", validate=validate.Length(max=500))


class RuleRejectionSchema(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=500))


def change_view(session, change, row: RuleVersion | None = None) -> dict:
    """A rule change with the program, version and version status it concerns."""
    row = row or session.get(RuleVersion, change.rule_version_id)
    return {**change.model_dump(), "program": row.program_code, "version": row.version, "version_status": row.status}


@blp.route("")
class RuleChanges(MethodView):
    @allow("admin", "auditor")
    @blp.arguments(ChangeQuery, location="query")
    @blp.response(200, RuleChangeSchema(many=True))
    def get(self, query):
        """Rule changes, newest first, by status and program (admin, auditor)."""
        session = context.session()
        return [change_view(session, change, row) for change, row in rule_changes.list_changes(
            session, principal=context.principal(), status=query.get("status"), program_code=query.get("program"))]


@blp.route("/<int:change_id>/approve")
class ApproveChange(MethodView):
    @allow("admin")
    @blp.arguments(RuleDecisionSchema)
    @blp.response(200, RuleChangeSchema)
    def post(self, body, change_id):
        """Approve a pending change (a second admin, not its proposer): the version goes live or is retired."""
        session = context.session()
        change = rule_changes.decide_change(session, principal=context.principal(), change_id=change_id,
                                            approve=True, note=body["note"])
        return change_view(session, change)


@blp.route("/<int:change_id>/reject")
class RejectChange(MethodView):
    @allow("admin")
    @blp.arguments(RuleRejectionSchema)
    @blp.response(200, RuleChangeSchema)
    def post(self, body, change_id):
        """Reject a pending change (a second admin, not its proposer), with the reason."""
        session = context.session()
        change = rule_changes.decide_change(session, principal=context.principal(), change_id=change_id,
                                            approve=False, note=body["note"])
        return change_view(session, change)
