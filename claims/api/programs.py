"""Programs: their rule versions, budgets, and institution admissions (with circuit breakers)."""
from __future__ import annotations

import hashlib
import json
import tomllib
from decimal import Decimal

from flask import request
from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.spec import Blueprint, EVERYONE, STAFF_ROLES, allow
from claims.api.fields import Money, StrictSchema
from claims.api.parsing import parse_json_body
from claims import ledger
from claims.errors import Unprocessable
from claims.services import breaker_lifts, programs, rule_changes
from claims.api.rule_changes import RuleChangeSchema, change_view

blp = Blueprint("programs", __name__, url_prefix="/programs", description="Programs, budgets and admissions")


class RuleVersionSchema(StrictSchema):
    id = fields.Integer()
    version = fields.String()
    status = fields.String(metadata={"description": "draft (never live), proposed (awaiting a second admin), live, "
                                                    "retired or rejected"})
    effective_from = fields.Date()
    effective_to = fields.Date(allow_none=True)
    source = fields.String()
    sha256 = fields.String()
    parameters = fields.Dict()
    pending_change_id = fields.Integer(allow_none=True, metadata={
        "description": "The rule change a second admin approves or rejects (POST /rule-changes/{id}/approve)"})


class ProgramSchema(StrictSchema):
    code = fields.String()
    kind = fields.String()
    name = fields.String()


class ProgramDetailSchema(ProgramSchema):
    versions = fields.List(fields.Nested(RuleVersionSchema))


class BudgetSchema(StrictSchema):
    year = fields.Integer()
    budget = Money(attribute="budget_fen")
    reserved = Money(attribute="reserved_fen")
    paid = Money(attribute="paid_fen")
    recovered = Money(attribute="recovered_fen", metadata={"description": "Recoveries owed back to the program"})
    available = Money(attribute="available_fen")


class AdmissionSchema(StrictSchema):
    id = fields.Integer()
    institution_id = fields.Integer()
    program = fields.String(attribute="program_code")
    status = fields.String()
    reason = fields.String()
    updated_at = fields.DateTime()


class AdmissionChangeSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(["active", "suspended", "claims_deferred"]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class LiftSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


@blp.route("")
class Programs(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, ProgramSchema(many=True))
    def get(self):
        """List the programs."""
        context.principal()
        return programs.list_programs(context.session())


@blp.route("/<string:code>")
class ProgramByCode(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, ProgramDetailSchema)
    def get(self, code):
        """A program with every published rule version and its parameters."""
        context.principal()
        session = context.session()
        program = programs.get_program(session, code=code)
        return {**program.model_dump(), "versions": programs.versions_of(session, code=code)}


@blp.route("/<string:code>/versions")
class ProgramVersions(MethodView):
    @blp.response(201, RuleVersionSchema)
    @blp.doc(requestBody={"required": True, "description": "A program file: TOML text, or the same document as JSON",
                          "content": {"application/toml": {"schema": {"type": "string"}},
                                      "application/json": {"schema": {"type": "object"}}}})
    @allow("admin")
    def post(self, code):
        """Propose a new rule version (admin): validated, effective-dated, no overlaps; live once a second admin
        approves its rule change (POST /rule-changes/{id}/approve)."""
        principal = context.principal()
        principal.require("admin")
        document, sha256 = rule_document(request)
        row, created = rule_changes.propose_version(context.session(), principal=principal, code=code,
                                                    document=document, sha256=sha256,
                                                    reason=request.args.get("reason", "")[:500])
        change = rule_changes.pending_change(context.session(), row)
        return {**row.model_dump(), "pending_change_id": change.id if change else None}, 201 if created else 200


@blp.route("/<string:code>/versions/<string:version>/retire")
class ProgramVersionRetire(MethodView):
    @allow("admin")
    @blp.arguments(LiftSchema)
    @blp.response(201, RuleChangeSchema)
    def post(self, body, code, version):
        """Propose retiring a live version (admin); once a second admin approves, it takes no new loans or applications."""
        change = rule_changes.propose_retirement(context.session(), principal=context.principal(), code=code,
                                                 version=version, reason=body["reason"])
        return change_view(context.session(), change)


def rule_document(req) -> tuple[dict, str]:
    """The posted rule as a document and the SHA-256 of what was sent (TOML text or canonical JSON)."""
    raw = req.get_data()
    try:
        if req.mimetype == "application/json":
            document = parse_json_body(raw, parse_float=Decimal)
            digest = hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
                                    .encode()).hexdigest()
        else:
            document = tomllib.loads(raw.decode("utf-8"), parse_float=Decimal)
            digest = hashlib.sha256(raw).hexdigest()
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable(f"The body is not a TOML or JSON program document: {exc}", code="rule_invalid") from exc
    if not isinstance(document, dict):
        raise Unprocessable("The body must be a program document (a table/object).", code="rule_invalid")
    return document, digest


@blp.route("/<string:code>/budget")
class ProgramBudget(MethodView):
    @allow(*STAFF_ROLES)
    @blp.response(200, BudgetSchema(many=True))
    def get(self, code):
        """Budget, reserved, paid, recovered and available per fiscal year, derived from the ledger (staff)."""
        context.principal().require("reviewer", "approver", "payer", "admin", "auditor")
        session = context.session()
        programs.get_program(session, code=code)
        return ledger.budget_positions(session, program_code=code)


@blp.route("/<string:code>/admissions")
class Admissions(MethodView):
    @allow(*EVERYONE)
    @blp.response(200, AdmissionSchema(many=True))
    def get(self, code):
        """Institutions admitted to the program and their status (an institution sees its own)."""
        return programs.list_admissions(context.session(), principal=context.principal(), program_code=code)


@blp.route("/<string:code>/admissions/<int:institution_id>")
class AdmissionById(MethodView):
    @allow("admin")
    @blp.arguments(AdmissionChangeSchema)
    @blp.response(200, AdmissionSchema)
    def put(self, body, code, institution_id):
        """Admit, suspend or defer an institution in the program (admin)."""
        return programs.set_admission(context.session(), principal=context.principal(), institution_id=institution_id,
                                      program_code=code, **body)


@blp.route("/<string:code>/admissions/<int:institution_id>/lift")
class AdmissionLift(MethodView):
    @allow("admin")
    @blp.arguments(LiftSchema)
    @blp.response(200, AdmissionSchema)
    def post(self, body, code, institution_id):
        """Lift a circuit breaker (admin): the institution is active again and its deferred claims resume."""
        return breaker_lifts.lift_breaker(context.session(), principal=context.principal(), registry=context.programs(),
                                   institution_id=institution_id, program_code=code, reason=body["reason"],
                                   today=context.today())
