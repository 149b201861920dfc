"""Programs: budget per year with its use by month, breaker measures per bank with lifting, review speed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import flash, make_response, redirect, url_for

from claims import ledger
from claims.api import context
from claims.console import bp, charts, labels
from claims.console.forms import LiftForm
from claims.console.pages import me, render
from claims.errors import Problem
from claims.services import breaker_lifts, oversight, programs


@bp.route("/programs")
def programs_page():
    """Every program with this year's budget position."""
    db = context.session()
    year = context.today().year
    rows = []
    for program in programs.list_programs(db):
        position = next((p for p in ledger.budget_positions(db, program_code=program.code) if p.year == year), None)
        rows.append((program, position))
    return render("console/programs.html", rows=rows, year=year)


def _dashboard(code: str, lift_form: LiftForm | None = None, refusal: dict | None = None, status: int = 200):
    db, today = context.session(), context.today()
    me().require("reviewer", "approver", "payer", "admin", "auditor")
    program = programs.get_program(db, code=code)
    try:
        rule = context.programs().rule_for(code, today)
    except LookupError:  # no version in force today (or a program not in config/programs)
        rule = None
    since = datetime.combine(today - timedelta(days=365), datetime.min.time(), tzinfo=timezone.utc)
    subject_type = "claim" if program.kind in ("risk_pool", "guarantee_fund") else "application"
    values = {
        "program": program, "rule": rule, "positions": _positions(db, code, rule, today.year),
        "year": today.year, "measures": oversight.bank_measures(db, rule=rule, year=today.year) if rule else [],
        "events": oversight.breaker_events(db, program_code=code),
        "speed": oversight.review_speed(db, subject_type=subject_type, program_code=code, since=since),
        "lift_form": lift_form or LiftForm(formdata=None), "refusal": refusal,
    }
    return make_response(render("console/program.html", **values), status)


def _positions(db, code: str, rule, year: int) -> list:
    """The ledger's positions, and this year's appropriation as the rule sets it when nothing is booked yet."""
    positions = ledger.budget_positions(db, program_code=code)
    budget = rule.annual_budget_fen(year) if rule else None
    if budget is not None and all(p.year != year for p in positions):
        # The ledger books the appropriation at the year's first approval (ledger.lock_budget); until then
        # the rule's figure is what is available.
        positions.append(ledger.BudgetPosition(code, year, budget, 0, 0, 0, budget))
    return positions


@bp.route("/programs/<code>")
def program_page(code: str):
    """The program dashboard."""
    return _dashboard(code)


@bp.route("/programs/<code>/use-<int:year>.svg")
def program_chart(code: str, year: int):
    """The SVG chart of the budget's use by month in one year."""
    db = context.session()
    program = programs.get_program(db, code=code)
    svg = charts.budget_use(oversight.budget_use_by_month(db, program_code=code, year=year),
                            title=f"{program.name} {year}年预算使用（按月）")
    response = make_response(svg)
    response.mimetype = "image/svg+xml"
    # pygal styles its drawing with an inline <style>; the image runs no script.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.route("/programs/<code>/lift", methods=["POST"])
def lift(code: str):
    """Lift a breaker on one institution with a reason (admin; the service checks)."""
    form = LiftForm()
    if not form.validate():
        return _dashboard(code, form, {"code": "reason_required", "message": labels.refusal("reason_required")}, 422)
    try:
        breaker_lifts.lift_breaker(context.session(), principal=me(), registry=context.programs(),
                            institution_id=form.institution_id.data, program_code=code,
                            reason=form.reason.data.strip(), today=context.today())
    except Problem as exc:
        context.session().rollback()
        return _dashboard(code, form, {"code": exc.code, "message": labels.refusal(exc.code, exc.detail)}, exc.status)
    flash("熔断已解除，暂缓的代偿申请已恢复受理。")
    return redirect(url_for("console.program_page", code=code), 303)
