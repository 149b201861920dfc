"""What-if simulations in the console: a program's simulations, one simulation's results and its chart."""
from __future__ import annotations

from flask import Response, current_app, flash, make_response, redirect, url_for
from sqlmodel import select

from claims.api import context
from claims.console import bp, charts, labels
from claims.console.forms import SimulationForm
from claims.console.pages import me, render
from claims.errors import Problem
from claims.models import Institution, RuleVersion, Simulation
from claims.paging import PageRequest
from claims.services import drafts, programs, simulations
from claims.services import simulation_results as results


def _form(db, code: str, form: SimulationForm | None = None) -> SimulationForm:
    form = form or SimulationForm(formdata=None)
    form.version.choices = [(d.version, d.version) for d in reversed(drafts.drafts_of(db, code=code))]
    form.institutions.choices = [(i.id, i.name) for i in db.exec(select(Institution).order_by(Institution.id))]
    return form


@bp.route("/programs/<code>/simulations")
def simulations_page(code: str, form: SimulationForm | None = None, refusal: dict | None = None, status: int = 200):
    """The program's simulations, newest first, and the form that starts one."""
    me().require(*simulations.SIMULATING_ROLES)
    db = context.session()
    program = programs.get_program(db, code=code)
    rows = db.exec(select(Simulation, RuleVersion.version).join(RuleVersion, RuleVersion.id == Simulation.draft_version_id)
                   .where(Simulation.program_code == code).order_by(Simulation.id.desc()).limit(100)).all()
    return render("console/simulations.html", program=program, rows=rows, form=_form(db, code, form),
                  refusal=refusal), status


@bp.route("/programs/<code>/simulations", methods=["POST"])
def simulation_start(code: str):
    """Start a simulation of a draft over history (as POST /programs/{code}/simulations does) and open it."""
    form = _form(context.session(), code, SimulationForm())
    if not form.validate():
        message = "；".join(error for errors in form.errors.values() for error in errors)
        return simulations_page(code, form, {"code": "validation_failed", "message": message}, 422)
    ext = current_app.extensions["claims"]
    try:
        simulation = simulations.start_in_background(
            context.session(), sessions=ext["sessions"], registry=ext["programs"], principal=me(), code=code,
            version=form.version.data, kinds=form.kinds(), date_from=form.date_from.data,
            date_to=form.date_to.data, institutions=form.institutions.data or [])
    except Problem as exc:
        return simulations_page(code, form, {"code": exc.code, "message": labels.refusal(exc.code, exc.detail)},
                                exc.status)
    flash(f"模拟 {simulation.id} 已开始：草案 {form.version.data}，{form.date_from.data} 至 {form.date_to.data}")
    return redirect(url_for("console.simulation_page", code=code, simulation_id=simulation.id), 303)


@bp.route("/programs/<code>/simulations/<int:simulation_id>")
def simulation_page(code: str, simulation_id: int):
    """One simulation: its inputs, progress, totals, differences, chart and the items that changed."""
    db = context.session()
    simulation = simulations.get_simulation(db, principal=me(), code=code, simulation_id=simulation_id)
    done = simulation.status == "done"
    return render("console/simulation.html", program=programs.get_program(db, code=code), simulation=simulation,
                  version=db.get(RuleVersion, simulation.draft_version_id).version,
                  progress=simulations.progress(simulation),
                  breakdowns={by: results.breakdown(db, simulation.id, by) for by in ("category", "institution", "month")}
                  if done else {},
                  changed=results.list_items(db, simulation.id, page=PageRequest(1, 100), changed=True).items
                  if done else [])


@bp.route("/programs/<code>/simulations/<int:simulation_id>/by-month.svg")
def simulation_chart(code: str, simulation_id: int):
    """The SVG chart of a simulation's baseline and draft amounts by month."""
    db = context.session()
    simulation = simulations.get_simulation(db, principal=me(), code=code, simulation_id=simulation_id)
    svg = charts.simulation_by_month(results.breakdown(db, simulation.id, "month"),
                                     title=f"模拟 {simulation.id}：现行规则与草案（按月）")
    response = make_response(svg)
    response.mimetype = "image/svg+xml"
    # pygal styles its drawing with an inline <style>; the image runs no script.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.route("/programs/<code>/simulations/<int:simulation_id>.xlsx")
def simulation_workbook(code: str, simulation_id: int):
    """The simulation as XLSX, as the API gives it."""
    db = context.session()
    simulation = simulations.get_simulation(db, principal=me(), code=code, simulation_id=simulation_id)
    return Response(results.workbook(db, simulation),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=simulation-{simulation.id}.xlsx"})
