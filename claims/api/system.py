"""Health and audit-chain verification."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import text

from claims.api import context
from claims.api.spec import Blueprint, allow
from claims.api.fields import StrictSchema
from claims.audit import verify_chain

blp = Blueprint("system", __name__, description="Health and audit")


class HealthSchema(StrictSchema):
    status = fields.String()
    database = fields.String()


class ChainSchema(StrictSchema):
    ok = fields.Boolean()
    checked = fields.Integer()
    first_broken_seq = fields.Integer(allow_none=True)
    reason = fields.String()
    checkpoints = fields.Integer(metadata={"description": "Signed checkpoints of the chain head that hold"})


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self):
        """Check that the service and its database answer."""
        context.session().execute(text("SELECT 1"))
        return {"status": "ok", "database": context.session().get_bind().dialect.name}


@blp.route("/audit/verify")
class AuditVerify(MethodView):
    @allow("admin", "auditor")
    @blp.response(200, ChainSchema)
    def get(self):
        """Recompute the audit HMAC chain, check its signed checkpoints, name the first broken link (auditor, admin)."""
        context.principal().require("auditor", "admin")
        return verify_chain(context.session())
