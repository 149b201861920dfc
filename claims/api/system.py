"""Health, staff login and audit-chain verification."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import text

from claims.api import context
from claims.api.spec import Blueprint, allow
from claims.api.fields import StrictSchema
from claims.audit import verify_chain
from claims.services import users

blp = Blueprint("system", __name__, description="Health, login and audit")


class HealthSchema(StrictSchema):
    status = fields.String()
    database = fields.String()


class LoginSchema(StrictSchema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenSchema(StrictSchema):
    token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    roles = fields.List(fields.String())


class ChainSchema(StrictSchema):
    ok = fields.Boolean()
    checked = fields.Integer()
    first_broken_seq = fields.Integer(allow_none=True)
    reason = fields.String()


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self):
        """Check that the service and its database answer."""
        context.session().execute(text("SELECT 1"))
        return {"status": "ok", "database": context.session().get_bind().dialect.name}


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.doc(security=[])
    def post(self, body):
        """Log in as staff and receive an expiring bearer token."""
        s = context.settings()
        user, token = users.log_in(context.session(), username=body["username"], password=body["password"],
                                   secret_key=s.secret_key)
        return {"token": token, "token_type": "Bearer", "expires_in": s.token_ttl_seconds,
                "roles": sorted(user.role_set)}


@blp.route("/audit/verify")
class AuditVerify(MethodView):
    @allow("admin", "auditor")
    @blp.response(200, ChainSchema)
    def get(self):
        """Recompute the audit hash chain and name the first broken link (auditor, admin)."""
        context.principal().require("auditor", "admin")
        return verify_chain(context.session())
