"""The what-if simulator over time: a range opening mid-year, cancelling, applications, the console, budget
adjustments and the scheduler's resume."""
from __future__ import annotations

import io
import time

import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import SQLModel, select

from claims.models import User
from tests.api import simulation_calls as sim
from tests.api.simulation_history import seed_history
from tests.helpers import problem


def test_a_range_starting_mid_year_opens_with_the_caps_history_had_used_before_it(app, client, callers, db):
    ids = seed_history(db)
    names = {claim_id: name for name, claim_id in ids.items()}
    sim.draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    started = client.post(f"{sim.PROGRAM}/simulations", json={"version": "2028.11", "date_from": "2025-02-07",
                                                           "date_to": "2025-12-31"}, headers=callers["admin"].headers)
    url = f"{sim.PROGRAM}/simulations/{started.get_json()['id']}"
    for _ in range(600):
        if client.get(url, headers=callers["admin"].headers).get_json()["status"] == "done":
            break
        time.sleep(0.05)
    items = sim.items(client, callers["admin"], {"id": started.get_json()["id"]})
    # c1..c4 were approved before the range (1,550,000.00 of BANK_A's 1,800,000.00): both sides start there,
    # so c5 gets the 250,000.00 left under the draft too.
    assert [(names[i["claim_id"]], i["baseline"], i["draft"]) for i in items] == [
        ("c5", "250000.00", "250000.00"), ("c6", "0.00", "0.00"), ("c7", "400000.00", "450000.00"),
        ("c8", "350000.00", "350000.00")]


def test_a_simulation_is_cancelled_between_chunks_keeping_what_it_had_done(app, client, callers, db, monkeypatch):
    from claims.models import Simulation
    from claims.services import simulations

    seed_history(db)
    sim.draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    monkeypatch.setattr(simulations, "launch", lambda *args: None)  # run below, in this thread
    monkeypatch.setattr(simulations, "CHUNK", 2)
    started = client.post(f"{sim.PROGRAM}/simulations", json={"version": "2028.11", "date_from": "2025-01-01",
                                                           "date_to": "2025-12-31"}, headers=callers["admin"].headers)
    assert (started.status_code, started.get_json()["status"]) == (202, "queued")
    simulation_id = started.get_json()["id"]
    url = f"{sim.PROGRAM}/simulations/{simulation_id}"
    busy = problem(client.post(f"{sim.PROGRAM}/simulations", json={"version": "2028.11", "date_from": "2025-01-01",
                                                                "date_to": "2025-12-31"},
                               headers=callers["auditor1"].headers), 409, "simulation_running")
    assert busy["simulation_id"] == simulation_id
    ext = app.extensions["claims"]
    row = simulations._row

    def cancel_after_three(outcome, sim_id, seq):
        if seq == 3:  # a user cancels while the second chunk is being priced
            assert client.post(f"{url}/cancel", headers=callers["auditor1"].headers).status_code == 200
        return row(outcome, sim_id, seq)

    monkeypatch.setattr(simulations, "_row", cancel_after_three)
    simulations.run_simulation(ext["sessions"], ext["programs"], simulation_id)
    body = client.get(url, headers=callers["admin"].headers).get_json()
    assert (body["status"], body["progress"]["done"], body["progress"]["total"]) == ("cancelled", 4, 9)
    assert len(sim.items(client, callers["admin"], body)) == 4
    db.expire_all()
    assert db.get(Simulation, simulation_id).cancel_requested is True
    problem(client.post(f"{url}/cancel", headers=callers["admin"].headers), 409, "simulation_finished")


def test_applications_are_replayed_too_a_higher_fee_share_stopping_at_the_annual_cap(app, client, callers, db):
    from tests.api.simulation_history import seed_fee_applications

    ids = seed_fee_applications(db)
    names = {application_id: name for name, application_id in ids.items()}
    made = client.post("/programs/sz-tech-fee/drafts/copy", json={
        "from_version": "2023.1", "version": "2028.11", "set": {"fee.kinds[0].share": "0.60"}},
        headers=callers["admin"].headers)
    assert made.status_code == 201, made.get_json()
    started = client.post("/programs/sz-tech-fee/simulations", json={
        "version": "2028.11", "kinds": ["applications"], "date_from": "2024-01-01", "date_to": "2024-12-31"},
        headers=callers["auditor1"].headers)
    url = f"/programs/sz-tech-fee/simulations/{started.get_json()['id']}"
    for _ in range(600):
        body = client.get(url, headers=callers["auditor1"].headers).get_json()
        if body["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert body["status"] == "done", body
    items = client.get(f"{url}/items", headers=callers["auditor1"].headers).get_json()
    # 50 % -> 60 % of the fee; the 700,000.00 fee is held to the 300,000.00 annual cap either way.
    assert [(names[i["claim_id"]], i["baseline"], i["draft"], i["draft_binding"]) for i in items] == [
        ("a1", "50000.00", "60000.00", ""), ("a2", "50000.00", "60000.00", ""),
        ("a3", "300000.00", "300000.00", "per_firm_program_year"), ("a4", "100000.00", "120000.00", "")]
    assert body["totals"]["approved"] == {"baseline": "500000.00", "draft": "540000.00", "delta": "40000.00"}
    assert body["differences"]["by_category"] == [{"category": "fee_subsidy:guarantee_fee", "items": 4,
                                                   "baseline": "500000.00", "draft": "540000.00",
                                                   "delta": "40000.00"}]


def test_the_console_shows_a_simulation_with_its_totals_breakdowns_chart_and_workbook(app, client, callers, db):
    from tests.api.test_console_pages import login, text

    seed_history(db)
    sim.draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    result = sim.simulate(client, callers["auditor1"], "2028.11")
    login(client, "auditor1")
    listing = client.get(f"/console{sim.PROGRAM}/simulations")
    assert listing.status_code == 200 and "100000.00" in text(listing)
    page = client.get(f"/console{sim.PROGRAM}/simulations/{result['id']}")
    shown = text(page)
    assert page.status_code == 200
    assert "计算金额 2950000.00 3050000.00 100000.00" in shown and "核准口径 2550000.00 2600000.00 50000.00" in shown
    assert "listed_categories+first_loan 1 450000.00 500000.00 50000.00" in shown
    assert shown.count("per_institution_year_share_of_registered") == 1  # c5, the one cut by the cap
    chart = client.get(f"/console{sim.PROGRAM}/simulations/{result['id']}/by-month.svg")
    assert chart.mimetype == "image/svg+xml" and "script-src" not in chart.headers["Content-Security-Policy"]
    assert "现行规则" in chart.get_data(as_text=True)
    book = client.get(f"/console{sim.PROGRAM}/simulations/{result['id']}.xlsx")
    assert load_workbook(io.BytesIO(book.data), read_only=True)["汇总"]["D2"].value == "100000.00"


def test_the_bureaus_budget_adjustments_count_on_both_sides_of_the_replay(app, client, callers, db):
    from claims import ledger

    ids = seed_history(db)
    names = {claim_id: name for name, claim_id in ids.items()}
    sim.draft(client, callers["admin"], "2028.12", {"budget.annual.2025": "1000000.00"})

    def draft_side(result):
        return {names[i["claim_id"]]: (i["draft"], i["draft_binding"])
                for i in sim.items(client, callers["auditor1"], result) if names[i["claim_id"]] in ("c1", "c2", "c3", "c4")}

    before = sim.simulate(client, callers["auditor1"], "2028.12")
    # A 1,000,000.00 budget: c1 and c2 fit, c3 gets what is left, c4 nothing.
    assert draft_side(before) == {"c1": ("400000.00", ""), "c2": ("300000.00", ""),
                                  "c3": ("300000.00", "program_budget"), "c4": ("0.00", "program_budget")}
    assert before["totals"]["budget"]["draft"]["budget"] == "1000000.00"
    assert before["totals"]["budget"]["baseline"]["budget"] == "100000000.00"

    # The bureau adds 500,000.00 to 2025's appropriation: the draft's budget is moved by it as the live one is.
    ledger.lock_budget(db, program_code="sz-sme-pool", year=2025, budget_fen=100_000_000_00)
    ledger.adjust_budget(db, program_code="sz-sme-pool", year=2025, amount_fen=500_000_00, subject_id=1,
                         memo="追加预算（测试）")
    db.commit()
    after = sim.simulate(client, callers["auditor1"], "2028.12")
    assert draft_side(after) == {"c1": ("400000.00", ""), "c2": ("300000.00", ""), "c3": ("450000.00", ""),
                                 "c4": ("350000.00", "program_budget")}
    assert sim.fen(after["totals"]["approved"]["draft"]) - sim.fen(before["totals"]["approved"]["draft"]) == 500_000_00
    assert after["totals"]["approved"]["baseline"] == before["totals"]["approved"]["baseline"]
    assert (after["totals"]["budget"]["draft"]["budget"], after["totals"]["budget"]["baseline"]["budget"]) == \
        ("1500000.00", "100500000.00")


def test_the_scheduler_runs_a_simulation_no_thread_took_and_resumes_one_whose_runner_stopped(app, client, callers,
                                                                                              db, monkeypatch):
    from datetime import timedelta

    from claims.models import AuditEvent, Simulation, SimulationItem
    from claims.models.base import utcnow
    from claims.services import simulations
    from reports.jobs import JobDeps, run_job

    seed_history(db)
    sim.draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    reference = sim.simulate(client, callers["admin"], "2028.11")
    monkeypatch.setattr(simulations, "launch", lambda *args: None)  # the instance stops before its thread starts
    body = {"version": "2028.11", "date_from": "2025-01-01", "date_to": "2025-12-31"}
    queued = client.post(f"{sim.PROGRAM}/simulations", json=body, headers=callers["admin"].headers).get_json()
    deps = JobDeps.from_app(app)
    fresh = run_job(deps, "simulation_runs")  # queued a moment ago: its own thread may still take it
    assert (fresh.status, fresh.counts["resumed"], fresh.counts["run"]) == ("done", 0, 0)
    db.expire_all()
    assert db.get(Simulation, queued["id"]).status == "queued"
    db.get(Simulation, queued["id"]).created_at = utcnow() - timedelta(minutes=2)
    db.commit()
    run = run_job(deps, "simulation_runs")
    assert (run.status, run.counts["resumed"], run.counts["run"]) == ("done", 0, 1)
    done = client.get(f"{sim.PROGRAM}/simulations/{queued['id']}", headers=callers["admin"].headers).get_json()
    assert done["status"] == "done" and done["totals"] == reference["totals"]

    # A runner that stopped after its first chunk: "running", 4 of 9 items written, no heartbeat for 11 minutes.
    stalled = client.post(f"{sim.PROGRAM}/simulations", json=body, headers=callers["admin"].headers).get_json()
    monkeypatch.setattr(simulations, "CHUNK", 4)
    real_write = simulations.write_items

    def die_after_first_chunk(session, rows):
        real_write(session, rows)
        session.commit()
        raise KeyboardInterrupt  # not an Exception: nothing records a failure, as when a process is killed
    monkeypatch.setattr(simulations, "write_items", die_after_first_chunk)
    try:
        simulations.run_simulation(app.extensions["claims"]["sessions"], app.extensions["claims"]["programs"],
                                   stalled["id"])
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(simulations, "write_items", real_write)
    db.expire_all()
    row = db.get(Simulation, stalled["id"])
    assert (row.status, len(db.exec(select(SimulationItem.id).where(SimulationItem.simulation_id == row.id)).all())) \
        == ("running", 4)
    assert simulations.resume_simulations(app.extensions["claims"]["sessions"], app.extensions["claims"]["programs"],
                                          now=row.heartbeat_at + timedelta(minutes=9)) == {"resumed": 0, "run": 0}
    result = simulations.resume_simulations(app.extensions["claims"]["sessions"], app.extensions["claims"]["programs"],
                                            now=row.heartbeat_at + timedelta(minutes=11))
    assert result == {"resumed": 1, "run": 1}
    resumed = client.get(f"{sim.PROGRAM}/simulations/{stalled['id']}", headers=callers["admin"].headers).get_json()
    assert (resumed["status"], resumed["progress"]["done"], resumed["progress"]["total"]) == ("done", 9, 9)
    assert resumed["totals"] == reference["totals"]
    assert len(sim.items(client, callers["admin"], resumed)) == 9
    db.commit()  # a fresh snapshot (SQLite): see what the runners wrote
    assert db.exec(select(AuditEvent.action).where(AuditEvent.entity == "simulation",
                                                   AuditEvent.entity_id == str(stalled["id"]))).all() == [
        "started", "resumed"]


def test_the_console_starts_a_simulation_that_prices_as_the_api_does_and_refuses_in_chinese(app, client, callers, db):
    from tests.api.test_console_pages import login, text

    seed_history(db)
    sim.draft(client, callers["admin"], "2028.12", {"compensation.uplifts[0].add": "0.15"})
    _, token = login(client, "auditor1")
    program = client.get("/console/programs/sz-sme-pool")
    assert "政策模拟：用草案重算历史" in text(program)
    page = client.get(f"/console{sim.PROGRAM}/simulations")
    assert page.status_code == 200 and '<option value="2028.12">2028.12</option>' in page.get_data(as_text=True)
    form = {"csrf_token": token, "version": "2028.12", "date_from": "2025-01-01", "date_to": "2025-12-31"}

    neither = client.post(f"/console{sim.PROGRAM}/simulations", data=form)
    assert neither.status_code == 422 and "请至少选择一类历史" in text(neither)
    backwards = client.post(f"/console{sim.PROGRAM}/simulations", data={**form, "claims": "y", "date_to": "2024-12-31"})
    assert backwards.status_code == 422 and "历史区间的截止日早于起始日。 simulation_range_invalid" in text(backwards)
    assert db.exec(select(sa.func.count()).select_from(SQLModel.metadata.tables["simulation"])).one() == 0

    started = client.post(f"/console{sim.PROGRAM}/simulations", data={**form, "claims": "y"})
    assert started.status_code == 303, text(started)
    simulation_id = int(started.headers["Location"].rsplit("/", 1)[1])
    shown = client.get(started.headers["Location"])
    assert "模拟 %d 已开始：草案 2028.12，2025-01-01 至 2025-12-31" % simulation_id in text(shown)
    for _ in range(600):
        if 'data-status="done"' in shown.get_data(as_text=True):
            break
        assert 'http-equiv="refresh"' in shown.get_data(as_text=True)  # a running one reloads itself
        time.sleep(0.05)
        shown = client.get(started.headers["Location"])
    assert "计算金额 2950000.00 3050000.00 100000.00" in text(shown)  # as the API run of this draft gave
    assert 'http-equiv="refresh"' not in shown.get_data(as_text=True)
    by_api = client.get(f"{sim.PROGRAM}/simulations/{simulation_id}", headers=callers["auditor1"].headers).get_json()
    auditor = db.exec(select(User).where(User.username == "auditor1")).one()
    assert by_api["kinds"] == ["claims"] and by_api["created_by"] == f"user:{auditor.id}"
    assert by_api["totals"]["computed"] == {"baseline": "2950000.00", "draft": "3050000.00", "delta": "100000.00"}

    _, reviewer_token = login(client, "reviewer1")
    refused = client.post(f"/console{sim.PROGRAM}/simulations", data={**form, "csrf_token": reviewer_token, "claims": "y"})
    assert refused.status_code == 403
