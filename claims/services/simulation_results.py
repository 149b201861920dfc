"""What a simulation found: totals, differences by uplift, institution and month, items, budget pace, XLSX."""
from __future__ import annotations

import io
import math
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import and_, case, func, select
from sqlmodel import Session
from sqlmodel import select as select_rows

from claims.models import Simulation, SimulationItem
from claims.paging import Page, PageRequest, fetch_page
from workflows.money import format_fen

COMMITTED = ("approved", "paid")
_I = SimulationItem


def _sum(column, *when):
    return func.coalesce(func.sum(case((and_(*when), column), else_=0) if when else column), 0)


def _totals(session: Session, simulation_id: int) -> dict:
    committed, paid = _I.status.in_(COMMITTED), _I.status == "paid"
    row = session.execute(select(
        func.count(), _sum(_I.baseline_fen), _sum(_I.draft_fen), _sum(_I.baseline_fen, committed),
        _sum(_I.draft_fen, committed), _sum(_I.baseline_fen, paid), _sum(_I.draft_fen, paid),
        _sum(1, _I.delta_fen != 0), _sum(1, _I.baseline_eligible, ~_I.draft_eligible),
        _sum(1, ~_I.baseline_eligible, _I.draft_eligible)).where(_I.simulation_id == simulation_id)).one()
    n, cb, cd, ab, ad, pb, pd, changed, lost, gained = (int(v) for v in row)
    money = {"computed": (cb, cd), "approved": (ab, ad), "paid": (pb, pd)}
    return {"items": n, "changed": changed, "newly_ineligible": lost, "newly_eligible": gained,
            **{key: {"baseline": format_fen(b), "draft": format_fen(d), "delta": format_fen(d - b)}
               for key, (b, d) in money.items()}}


def _exhaustion(spent_fen: int, budget_fen: int | None, year: int, until: date) -> dict:
    start = date(year, 1, 1)
    elapsed = (min(until, date(year, 12, 31)) - start).days + 1
    pace = spent_fen / elapsed if elapsed > 0 else 0
    on = None
    if budget_fen is not None and pace > 0:
        day = start + timedelta(days=math.ceil(budget_fen / pace) - 1)
        on = day.isoformat() if day.year == year else None
    return {"committed": format_fen(spent_fen), "budget": None if budget_fen is None else format_fen(budget_fen),
            "per_day": format_fen(round(pace)), "exhausted_on": on}


def _budget(session: Session, simulation: Simulation, draft_budget: Callable[[int], int | None],
            baseline_budget: Callable[[int], int | None]) -> dict:
    year, until = simulation.date_to.year, simulation.date_to
    in_year = and_(_I.simulation_id == simulation.id, _I.status.in_(COMMITTED), _I.history_on >= date(year, 1, 1),
                   _I.history_on <= until)
    base, drafted = (int(v) for v in session.execute(select(_sum(_I.baseline_fen), _sum(_I.draft_fen))
                                                     .where(in_year)).one())
    # The pace is what was committed from 1 January to the end of the range, carried on to the year's end.
    return {"year": year, "baseline": _exhaustion(base, baseline_budget(year), year, until),
            "draft": _exhaustion(drafted, draft_budget(year), year, until)}


def summarise(session: Session, simulation: Simulation, *, draft_budget, baseline_budget) -> dict:
    """The totals and the current year's budget pace of a finished simulation, kept on its row."""
    return {**_totals(session, simulation.id),
            "budget": _budget(session, simulation, draft_budget, baseline_budget)}


_GROUPS = {"category": _I.category, "institution": _I.institution_id, "month": _I.month}


def breakdown(session: Session, simulation_id: int, by: str) -> list[dict]:
    """Baseline, draft and delta summed by uplift combination, institution or month (each partition sums to the total)."""
    column = _GROUPS[by]
    rows = session.execute(select(column, func.count(), _sum(_I.baseline_fen), _sum(_I.draft_fen), _sum(_I.delta_fen))
                           .where(_I.simulation_id == simulation_id).group_by(column).order_by(column))
    return [{by: key, "items": int(n), "baseline": format_fen(int(b)), "draft": format_fen(int(d)),
             "delta": format_fen(int(delta))} for key, n, b, d, delta in rows]


def list_items(session: Session, simulation_id: int, *, page: PageRequest, changed: bool | None = None,
               eligibility: str | None = None, institution_id: int | None = None) -> Page[SimulationItem]:
    """The repriced items in history's order, optionally only those that changed or changed eligibility."""
    statement = select_rows(SimulationItem).where(_I.simulation_id == simulation_id)
    if changed is not None:
        statement = statement.where((_I.delta_fen != 0) if changed else (_I.delta_fen == 0))
    if eligibility == "newly_ineligible":
        statement = statement.where(_I.baseline_eligible, ~_I.draft_eligible)
    elif eligibility == "newly_eligible":
        statement = statement.where(~_I.baseline_eligible, _I.draft_eligible)
    if institution_id is not None:
        statement = statement.where(_I.institution_id == institution_id)
    return fetch_page(session, statement.order_by(_I.seq), page)


def item_of(session: Session, simulation_id: int, claim_id: int) -> SimulationItem | None:
    """One repriced claim with both traces."""
    return session.scalars(select(SimulationItem).where(_I.simulation_id == simulation_id,
                                                        _I.subject_id == claim_id)).first()


_COLUMNS = ("序号", "理赔编号", "机构", "状态", "日期", "上浮类别", "基准金额", "草案金额", "差额", "基准可补偿", "草案可补偿",
            "基准限额", "草案限额")


def workbook(session: Session, simulation: Simulation) -> bytes:
    """The simulation as XLSX: a summary sheet, the breakdowns, and every item (written streaming)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    summary = book.create_sheet("汇总")
    summary.append(["项目", "基准", "草案", "差额"])
    totals = simulation.totals or {}
    for key, label in (("computed", "计算金额"), ("approved", "核准口径"), ("paid", "拨付口径")):
        if key in totals:
            summary.append([label, totals[key]["baseline"], totals[key]["draft"], totals[key]["delta"]])
    for by, title in (("category", "按上浮类别"), ("institution", "按机构"), ("month", "按月份")):
        sheet = book.create_sheet(title)
        sheet.append([by, "笔数", "基准", "草案", "差额"])
        for row in breakdown(session, simulation.id, by):
            sheet.append([str(row[by]), row["items"], row["baseline"], row["draft"], row["delta"]])
    items = book.create_sheet("明细")
    items.append(list(_COLUMNS))
    rows = session.execute(select(_I.seq, _I.subject_id, _I.institution_id, _I.status, _I.history_on, _I.category,
                                  _I.baseline_fen, _I.draft_fen, _I.delta_fen, _I.baseline_eligible,
                                  _I.draft_eligible, _I.baseline_binding, _I.draft_binding)
                           .where(_I.simulation_id == simulation.id).order_by(_I.seq)
                           .execution_options(yield_per=1000))
    for seq, claim, inst, status, on, category, b, d, delta, be, de, bb, db in rows:
        items.append([seq, claim, inst, status, on.isoformat(), category, format_fen(b), format_fen(d),
                      format_fen(delta), "是" if be else "否", "是" if de else "否", bb, db])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
