"""What-if simulations in the console: a program's simulations, one simulation's results and its chart."""
from __future__ import annotations

from flask import Response, make_response
from sqlmodel import select

from claims.api import context
from claims.console import bp, charts
from claims.console.pages import me, render
from claims.models import RuleVersion, Simulation
from claims.paging import PageRequest
from claims.services import programs, simulations
from claims.services import simulation_results as results


@bp.route("/programs/<code>/simulations")
def simulations_page(code: str):
    """The program's simulations, newest first."""
    me().require(*simulations.SIMULATING_ROLES)
    db = context.session()
    program = programs.get_program(db, code=code)
    rows = db.exec(select(Simulation, RuleVersion.version).join(RuleVersion, RuleVersion.id == Simulation.draft_version_id)
                   .where(Simulation.program_code == code).order_by(Simulation.id.desc()).limit(100)).all()
    return render("console/simulations.html", program=program, rows=rows)


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
