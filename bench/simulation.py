"""Figure 7, what-if simulation: stored claims replayed under the live rule and a draft, streamed from the database.

Set-up (not measured): count approved claims on the Shenzhen SME pool, each with its approval decision,
and a draft copied from 2023.1 with the listed-category uplift raised 5 pp. Ours runs the simulation as
the background job does (count, stream in chunks, price each claim under both rules with the caps
accumulated in the replay, write every item's amounts and cap usage, then the totals; traces are rebuilt
per item on demand, so none is written out here), in a fresh process
whose peak RSS is reported. The floor is figure 3's plain Decimal loop over as many claims, twice
(each claim is priced under two rules), timed in the same run; it reads nothing and writes nothing.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from bench import engine as engine_figure
from bench.common import (
    PROGRAM,
    BenchDatabase,
    Result,
    insert_defaulted_loans,
    isolated,
)

DRAFT = "2028.11"


def seed(db: BenchDatabase, count: int) -> None:
    """count approved claims in approval order through 2026, and the draft version."""
    from claims.auth import SYSTEM
    from claims.db import make_session_factory
    from claims.models import Claim, Decision
    from claims.services import drafts

    engine = db.engine()
    by_bank = insert_defaulted_loans(engine, count, prefix="SIM")
    loans = [(bank, loan_id) for bank, ids in by_bank.items() for loan_id in ids]
    with engine.connect() as conn:
        institutions = dict(conn.execute(sa.text("SELECT code, id FROM institution")).all())
        principal = dict(conn.execute(sa.text("SELECT id, principal_fen FROM loan")).all())
        rule_version = conn.execute(sa.text("SELECT id FROM rule_version WHERE program_code = :p AND version = "
                                            "'2023.1'"), {"p": PROGRAM}).scalar_one()
    start = datetime(2026, 1, 5, 9, 0)
    for first in range(0, len(loans), 5000):
        claims = []
        for bank, loan_id in loans[first:first + 5000]:
            claims.append({"loan_id": loan_id, "institution_id": institutions[bank], "program_code": PROGRAM,
                           "rule_version_id": rule_version, "status": "approved", "default_on": date(2025, 9, 1),
                           "days_overdue": 120, "outstanding_principal_fen": principal[loan_id] // 500,
                           "budget_year": 2026, "approved_fen": 1, "submitted_at": start, "ratio": "0",
                           "trace": [], "shares": {}, "version": 1, "created_at": start, "updated_at": start})
        with engine.begin() as conn:
            ids = conn.execute(sa.insert(Claim).returning(Claim.id), claims).scalars().all()
            conn.execute(sa.insert(Decision), [
                {"subject_type": "claim", "subject_id": claim_id, "actor": "bench", "role": "approver",
                 "action": "approve", "from_state": "second_review", "to_state": "approved",
                 "at": start + timedelta(seconds=first + n)} for n, claim_id in enumerate(ids)])
    with make_session_factory(engine)() as session:
        drafts.copy_to_draft(session, principal=SYSTEM, code=PROGRAM, from_version="2023.1", version=DRAFT,
                             changes={"compensation.uplifts[0].add": "0.15"})
    engine.dispose()


def ours(url: str, data_dir: str) -> tuple[float, int, dict, float]:
    """Start and run one simulation of 2026 in this process: (seconds, items, totals, seconds for one item's traces)."""
    from claims.audit import configure_key
    from claims.auth import SYSTEM
    from claims.db import make_engine, make_session_factory
    from claims.models import Simulation, SimulationItem
    from claims.services import simulation_items, simulations
    from claims.services.rulebook import PublishedRules
    from claims.settings import load_settings

    configure_key(load_settings("test").audit_key)  # a spawned process: the start is audited, as in the app
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    registry = PublishedRules(sessions)
    began = time.perf_counter()
    with sessions() as session:
        simulation_id = simulations.start_simulation(
            session, principal=SYSTEM, code=PROGRAM, version=DRAFT, kinds=["claims"], date_from=date(2026, 1, 1),
            date_to=date(2026, 12, 31), institutions=[]).id
    simulations.run_simulation(sessions, registry, simulation_id)
    elapsed = time.perf_counter() - began
    with sessions() as session:
        simulation = session.get(Simulation, simulation_id)
        if simulation.status != "done":
            raise RuntimeError(f"the simulation ended {simulation.status}: {simulation.error}")
        # Not part of the figure: what asking for the last item's two traces costs, rebuilt on demand.
        last = session.execute(sa.select(SimulationItem.subject_id).where(
            SimulationItem.simulation_id == simulation_id).order_by(SimulationItem.seq.desc()).limit(1)).scalar_one()
        detail_began = time.perf_counter()
        simulation_items.item_detail(session, registry, simulation, last)
        result = (elapsed, simulation.done, simulation.totals, time.perf_counter() - detail_began)
    engine.dispose()
    return result


def run(db: BenchDatabase, *, claims: int) -> Result:
    """Seed, then ours and the floor back to back, each in a fresh process."""
    seed(db, claims)
    db.analyze()
    (ours_s, items, totals, detail_s), peak_ours = isolated(ours, db.url, str(db.data_dir))
    (floor_s, _total, _digest), peak_floor = isolated(engine_figure.floor, claims)
    if items != claims:
        raise RuntimeError(f"the simulation priced {items} of {claims} claims")
    floor_s *= 2  # each claim is priced twice: under the live version and under the draft
    note = (f"{claims:,} stored claims streamed, priced twice, amounts and cap usage stored: {claims / ours_s:,.0f}/s "
            f"(floor {claims / floor_s:,.0f}/s); computed baseline {totals['computed']['baseline']}, draft "
            f"{totals['computed']['draft']}, delta {totals['computed']['delta']} yuan; one item's two traces "
            f"on demand {detail_s * 1000:,.0f} ms")
    return Result("7 what-if simulation", db.kind, "s", ours_s, floor_s, False, "<= 4x floor, <= 500 MiB", peak_ours,
                  peak_floor, ours_s <= 4 * floor_s and peak_ours <= 500, note)
