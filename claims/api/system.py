"""Health and audit-chain verification."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import text

from claims.api import context
from claims.api.fields import StrictSchema
from claims.api.spec import Blueprint, allow
from claims.books import verify_books

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
    unbalanced_accounts = fields.List(fields.Dict(), metadata={
        "description": "Ledger accounts whose kept balance is not the sum of their entries (account, balance, entries)"})
    trial_balance = fields.String(metadata={"description": "The sum of every ledger entry in yuan: 0.00 when it balances"})
    unreconciled_payouts = fields.List(fields.Dict(), metadata={
        "description": "Claims and applications whose reserve, release or pay postings differ from the amounts "
                       "their audited decisions carry (subject, posting, posted, audited)"})
    findings = fields.List(fields.String(), metadata={"description": "What is wrong, one sentence each (Chinese)"})


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
        """Recompute the audit HMAC chain and check its signed checkpoints, re-derive every ledger balance from its
        entries and reconcile every payout posting with its audited decision; ok only when all hold, what broke
        named (auditor, admin)."""
        context.principal().require("auditor", "admin")
        return verify_books(context.session()).as_dict()
