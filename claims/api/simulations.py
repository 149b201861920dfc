"""What-if simulations on the programs blueprint: a draft replayed over history, its progress and its results."""
from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from marshmallow import fields, validate

from claims.api import context
from claims.api.fields import StrictSchema
from claims.api.pagination import page_request, respond_page
from claims.api.spec import Blueprint, allow
from claims.errors import NotFound
from claims.models import RuleVersion
from claims.services import simulation_items, simulations
from claims.services import simulation_results as results
from workflows.money import format_fen

blp = Blueprint("simulations", __name__, url_prefix="/programs",
                description="What-if simulations: a draft replayed over history, with progress and results")
ROLES = simulations.SIMULATING_ROLES
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _signed(attribute: str):
    return fields.Function(lambda obj: format_fen(getattr(obj, attribute)), metadata={
        "type": "string", "example": "-1250.00", "description": "yuan, negative when the draft pays less"})


class SimulationRequest(StrictSchema):
    version = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={
        "description": "The draft (or any stored version) to price history under"})
    kinds = fields.List(fields.String(validate=validate.OneOf(["claims", "applications"])), load_default=["claims"],
                        validate=validate.Length(min=1))
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    institutions = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=1000))


class ProgressSchema(StrictSchema):
    done = fields.Integer()
    total = fields.Integer()
    eta_seconds = fields.Float(allow_none=True)


class SimulationSchema(StrictSchema):
    id = fields.Integer()
    program = fields.String(attribute="program_code")
    version = fields.String()
    draft_sha256 = fields.String()
    engine_version = fields.String()
    kinds = fields.List(fields.String())
    date_from = fields.Date()
    date_to = fields.Date()
    institutions = fields.List(fields.Integer())
    status = fields.String(metadata={"description": "queued, running, done, failed or cancelled"})
    cancel_requested = fields.Boolean()
    progress = fields.Nested(ProgressSchema)
    totals = fields.Dict(metadata={"description": "computed / approved / paid baseline vs draft, counts, budget pace"})
    differences = fields.Dict(allow_none=True, metadata={"description": "by category, institution and month"})
    error = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class ItemSchema(StrictSchema):
    seq = fields.Integer(metadata={"description": "position in history's approval order"})
    claim_id = fields.Integer(attribute="subject_id")
    institution_id = fields.Integer()
    status = fields.String()
    on = fields.Date(attribute="history_on")
    month = fields.String()
    category = fields.String(metadata={"description": "the uplifts that applied (draft side), or none"})
    baseline = _signed("baseline_fen")
    draft = _signed("draft_fen")
    delta = _signed("delta_fen")
    baseline_eligible = fields.Boolean()
    draft_eligible = fields.Boolean()
    baseline_binding = fields.String()
    draft_binding = fields.String()


class ItemDetailSchema(ItemSchema):
    baseline_trace = fields.List(fields.Dict())
    draft_trace = fields.List(fields.Dict())


class ItemQuery(StrictSchema):
    changed = fields.Boolean()
    eligibility = fields.String(validate=validate.OneOf(["newly_ineligible", "newly_eligible"]))
    institution = fields.Integer()


def _view(session, simulation) -> dict:
    version = session.get(RuleVersion, simulation.draft_version_id)
    differences = None
    if simulation.status == "done":
        differences = {f"by_{by}": results.breakdown(session, simulation.id, by)
                       for by in ("category", "institution", "month")}
    return {**simulation.model_dump(), "version": version.version, "progress": simulations.progress(simulation),
            "differences": differences}


def _get(code, simulation_id):
    return simulations.get_simulation(context.session(), principal=context.principal(), code=code,
                                      simulation_id=simulation_id)


@blp.route("/<string:code>/simulations")
class Simulations(MethodView):
    @allow(*ROLES)
    @blp.arguments(SimulationRequest)
    @blp.response(202, SimulationSchema)
    def post(self, body, code):
        """Start a what-if simulation of a draft over history (bureau staff); it runs in the background."""
        session, ext = context.session(), current_app.extensions["claims"]
        simulation = simulations.start_in_background(session, sessions=ext["sessions"], registry=ext["programs"],
                                                     principal=context.principal(), code=code, **body)
        return _view(session, simulation), 202


@blp.route("/<string:code>/simulations/<int:simulation_id>")
class SimulationById(MethodView):
    @allow(*ROLES)
    @blp.response(200, SimulationSchema)
    def get(self, code, simulation_id):
        """A simulation's inputs, progress (done / total, ETA) and, once done, its totals and differences."""
        return _view(context.session(), _get(code, simulation_id))


@blp.route("/<string:code>/simulations/<int:simulation_id>/cancel")
class SimulationCancel(MethodView):
    @allow(*ROLES)
    @blp.response(200, SimulationSchema)
    def post(self, code, simulation_id):
        """Cancel a queued or running simulation: it stops after the chunk in hand (bureau staff)."""
        session = context.session()
        return _view(session, simulations.cancel_simulation(session, principal=context.principal(), code=code,
                                                            simulation_id=simulation_id))


@blp.route("/<string:code>/simulations/<int:simulation_id>/items")
class SimulationItems(MethodView):
    @allow(*ROLES)
    @blp.arguments(ItemQuery, location="query")
    @blp.response(200, ItemSchema(many=True))
    @blp.paginate()
    def get(self, query, code, simulation_id, pagination_parameters):
        """The repriced claims in the order history approved them; filter by change, eligibility, institution."""
        simulation = _get(code, simulation_id)
        page = results.list_items(context.session(), simulation.id, page=page_request(pagination_parameters),
                                  changed=query.get("changed"), eligibility=query.get("eligibility"),
                                  institution_id=query.get("institution"))
        return respond_page(pagination_parameters, page)


@blp.route("/<string:code>/simulations/<int:simulation_id>/items/<int:claim_id>")
class SimulationItem(MethodView):
    @allow(*ROLES)
    @blp.response(200, ItemDetailSchema)
    def get(self, code, simulation_id, claim_id):
        """One repriced claim with the baseline and the draft trace side by side (rebuilt for this request)."""
        item = simulation_items.item_detail(context.session(), current_app.extensions["claims"]["programs"],
                                            _get(code, simulation_id), claim_id)
        if item is None:
            raise NotFound(f"Claim {claim_id} is not in simulation {simulation_id}.")
        return item


@blp.route("/<string:code>/simulations/<int:simulation_id>/xlsx")
class SimulationWorkbook(MethodView):
    @allow(*ROLES)
    @blp.response(200, {"format": "binary", "type": "string"}, content_type=XLSX)
    def get(self, code, simulation_id):
        """The simulation as a workbook: totals, the breakdowns and every item."""
        simulation = _get(code, simulation_id)
        return Response(results.workbook(context.session(), simulation), mimetype=XLSX, headers={
            "Content-Disposition": f"attachment; filename=simulation-{simulation.id}.xlsx"})
