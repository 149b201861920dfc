"""The what-if simulator: drafts never live, history repriced under a draft with caps in history's order."""
from __future__ import annotations

import hashlib
import io
import time

import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import SQLModel, select

from claims.models import User

from tests.api.simulation_history import LOSS_FEN, seed_history
from tests.helpers import problem

PROGRAM = "/programs/sz-sme-pool"


def _draft(client, admin, version: str, changes: dict) -> dict:
    response = client.post(f"{PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": version,
                                                           "set": changes}, headers=admin.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _simulate(client, caller, version: str) -> dict:
    started = client.post(f"{PROGRAM}/simulations", json={"version": version, "date_from": "2025-01-01",
                                                           "date_to": "2025-12-31"}, headers=caller.headers)
    assert started.status_code == 202, started.get_json()
    url = f"{PROGRAM}/simulations/{started.get_json()['id']}"
    for _ in range(600):
        body = client.get(url, headers=caller.headers).get_json()
        if body["status"] not in ("queued", "running"):
            assert body["status"] == "done", body
            return body
        time.sleep(0.05)
    raise AssertionError("the simulation did not finish")


def _items(client, caller, simulation: dict, query: str = "") -> list[dict]:
    response = client.get(f"{PROGRAM}/simulations/{simulation['id']}/items?page_size=100{query}",
                          headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _fen(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    yuan, cents = text.lstrip("-").split(".")
    return sign * (int(yuan) * 100 + int(cents))


def test_a_draft_is_validated_never_live_and_proposed_through_maker_checker(app, client, callers):
    admin, admin2 = callers["admin"], callers["admin2"]
    registry = app.extensions["claims"]["programs"]
    draft = _draft(client, admin, "2028.11", {"compensation.uplifts[0].add": "0.15"})
    assert (draft["status"], draft["parameters"]["compensation"]["uplifts"][0]["add"]) == ("draft", "0.15")
    assert [r.version for r in registry.versions("sz-sme-pool")] == ["2019.1", "2023.1"]
    problem(client.post(f"{PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": "2028.12",
                                                       "set": {"compensation.ceiling": "lots"}},
                        headers=admin.headers), 422, "rule_invalid")
    problem(client.post(f"{PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": "2028.12",
                                                       "set": {"compensation.uplifts[9].add": "0.1"}},
                        headers=admin.headers), 422, "draft_path_invalid")
    problem(client.post(f"{PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": "2023.1", "set": {}},
                        headers=admin.headers), 409, "rule_version_immutable")
    problem(client.post(f"{PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": "x", "set": {}},
                        headers=callers["approver1"].headers), 403, "role_required")
    assert [d["version"] for d in client.get(f"{PROGRAM}/drafts", headers=admin.headers).get_json()] == ["2028.11"]
    # The draft overlaps the live 2023.1, which a proposal may not: it is refused until its dates move.
    problem(client.post(f"{PROGRAM}/drafts/2028.11/propose", json={}, headers=admin.headers), 422,
            "rule_version_overlaps")
    _draft(client, admin, "2028.11", {"program.effective_from": "2028-11-01", "program.effective_to": "2030-10-31",
                                      "compensation.uplifts[0].add": "0.15"})
    proposed = client.post(f"{PROGRAM}/drafts/2028.11/propose", json={"reason": "上浮5个百分点"}, headers=admin.headers)
    assert proposed.get_json()["status"] == "proposed"
    problem(client.post(f"{PROGRAM}/drafts/2028.11/propose", json={}, headers=admin.headers), 409,
            "rule_version_not_draft")
    assert client.post(f"/rule-changes/{proposed.get_json()['pending_change_id']}/approve", json={},
                       headers=admin2.headers).get_json()["version_status"] == "live"
    assert [r.version for r in registry.versions("sz-sme-pool")] == ["2019.1", "2023.1", "2028.11"]


def test_raising_one_uplift_by_5pp_moves_each_qualifying_claim_by_5_percent_or_the_cap_room(app, client, callers, db):
    ids = seed_history(db)
    names = {claim_id: name for name, claim_id in ids.items()}
    _draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    result = _simulate(client, callers["auditor1"], "2028.11")
    items = _items(client, callers["auditor1"], result)
    # History's order is the approvals' (c9, never approved, by its filing), not the order of ids.
    assert [names[i["claim_id"]] for i in items] == ["c9", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]
    got = {names[i["claim_id"]]: (i["baseline"], i["draft"], i["delta"], i["draft_binding"]) for i in items}
    assert got == {
        "c1": ("400000.00", "450000.00", "50000.00", ""),
        "c2": ("300000.00", "300000.00", "0.00", ""),
        "c3": ("450000.00", "500000.00", "50000.00", ""),
        "c4": ("400000.00", "450000.00", "50000.00", ""),
        # BANK_A's cohort cap is 1,800,000.00: the draft reaches it one claim sooner.
        "c5": ("250000.00", "100000.00", "-150000.00", "per_institution_year_share_of_registered"),
        "c6": ("0.00", "0.00", "0.00", "per_institution_year_share_of_registered"),
        "c7": ("400000.00", "450000.00", "50000.00", ""),
        "c8": ("350000.00", "350000.00", "0.00", ""),
        "c9": ("400000.00", "450000.00", "50000.00", ""),
    }
    for item in items:
        if "listed_categories" in item["category"] and not item["draft_binding"]:
            assert _fen(item["delta"]) == LOSS_FEN * 5 // 100
        elif item["draft_binding"]:
            cap = next(s for s in client.get(f"{PROGRAM}/simulations/{result['id']}/items/{item['claim_id']}",
                                             headers=callers["auditor1"].headers).get_json()["draft_trace"]
                       if s["step"] == "cap:" + item["draft_binding"])
            assert cap["value"] == item["draft"]  # bound: the draft pays exactly the cap's room
    totals = result["totals"]
    assert totals["computed"] == {"baseline": "2950000.00", "draft": "3050000.00", "delta": "100000.00"}
    assert totals["approved"] == {"baseline": "2550000.00", "draft": "2600000.00", "delta": "50000.00"}
    assert totals["paid"] == {"baseline": "800000.00", "draft": "900000.00", "delta": "100000.00"}
    by_category = {row["category"]: row["delta"] for row in result["differences"]["by_category"]}
    assert by_category == {"first_loan": "0.00", "listed_categories": "50000.00",
                           "listed_categories+first_loan": "50000.00", "none": "0.00"}
    assert sum(_fen(v) for v in by_category.values()) == _fen(totals["computed"]["delta"])
    assert sum(_fen(r["delta"]) for r in result["differences"]["by_institution"]) == 100000_00
    assert [(r["month"], r["delta"]) for r in result["differences"]["by_month"]] == [
        ("2025-01", "50000.00"), ("2025-02", "50000.00")]
    assert (totals["newly_ineligible"], totals["newly_eligible"], totals["changed"]) == (0, 0, 6)
    # 2,600,000.00 committed over 2025 against a 100,000,000.00 budget: not exhausted within the year.
    assert totals["budget"]["draft"] == {"committed": "2600000.00", "budget": "100000000.00", "per_day": "7123.29",
                                         "exhausted_on": None}
    book = load_workbook(io.BytesIO(client.get(f"{PROGRAM}/simulations/{result['id']}/xlsx",
                                               headers=callers["auditor1"].headers).data), read_only=True)
    rows = list(book["明细"].values)
    assert rows[0][:3] == ("序号", "理赔编号", "机构") and len(rows) == 10
    assert [r[8] for r in rows[1:]] == [got[names[r[1]]][2] for r in rows[1:]]


def test_a_draft_identical_to_live_changes_nothing_and_the_same_inputs_give_the_same_result(app, client, callers, db):
    seed_history(db)
    _draft(client, callers["admin"], "2028.11", {})
    first = _simulate(client, callers["approver1"], "2028.11")
    assert {i["delta"] for i in _items(client, callers["approver1"], first)} == {"0.00"}
    assert first["totals"]["computed"]["delta"] == "0.00"
    again = _simulate(client, callers["admin"], "2028.11")
    assert (again["draft_sha256"], again["engine_version"]) == (first["draft_sha256"], first["engine_version"])
    assert again["totals"] == first["totals"] and again["differences"] == first["differences"]
    listed = _items(client, callers["admin"], first)
    assert _items(client, callers["admin"], again) == listed

    def detail(simulation, claim_id):
        return client.get(f"{PROGRAM}/simulations/{simulation['id']}/items/{claim_id}",
                          headers=callers["admin"].headers).get_json()

    for item in listed:  # the traces too, both sides, item by item
        assert detail(again, item["claim_id"]) == detail(first, item["claim_id"])
    one = detail(first, listed[0]["claim_id"])
    assert [s["step"] for s in one["baseline_trace"]] == [s["step"] for s in one["draft_trace"]]
    assert one["baseline_trace"][-1] == one["draft_trace"][-1]


def test_tightening_the_institution_cap_lists_the_cut_claims_in_approval_order(app, client, callers, db):
    ids = seed_history(db)
    names = {claim_id: name for name, claim_id in ids.items()}
    _draft(client, callers["admin"], "2028.11", {"caps.per_institution_year_share_of_registered": "0.04"})
    result = _simulate(client, callers["auditor1"], "2028.11")
    cut = [(names[i["claim_id"]], i["baseline"], i["draft"]) for i in _items(client, callers["auditor1"], result)
           if _fen(i["delta"]) < 0]
    # BANK_A's cap falls from 1,800,000.00 to 1,440,000.00: c4 gets the 290,000.00 left, c5 nothing.
    assert cut == [("c4", "400000.00", "290000.00"), ("c5", "250000.00", "0.00")]
    assert result["totals"]["approved"]["delta"] == "-360000.00"


def _digest(engine) -> dict[str, str]:
    digests = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name.startswith("simulation"):
                continue
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def test_a_simulation_leaves_every_live_table_as_it_was(app, client, callers, db):
    seed_history(db)
    _draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    engine = app.extensions["claims"]["engine"]
    before, events_before = _digest(engine), _events(engine)
    assert len(before) > 30
    simulation = _simulate(client, callers["auditor1"], "2028.11")
    # Every live table as it was, but the audit chain: it gains the start, and only that.
    assert {t: d for t, d in _digest(engine).items() if t != "audit_event"} == \
        {t: d for t, d in before.items() if t != "audit_event"}
    events = _events(engine)
    assert events[:len(events_before)] == events_before
    auditor = db.exec(select(User.id).where(User.username == "auditor1")).one()
    assert [(e.entity, e.entity_id, e.action, e.actor) for e in events[len(events_before):]] == [
        ("simulation", str(simulation["id"]), "started", f"user:{auditor}")]
    assert events[-1].data["draft_version"] == "2028.11" and events[-1].data["kinds"] == ["claims"]


def _events(engine) -> list:
    from claims.models import AuditEvent

    with engine.connect() as conn:
        return conn.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_simulations_are_for_bureau_staff_and_refuse_what_they_cannot_replay(app, client, callers, db):
    _draft(client, callers["admin"], "2028.11", {})
    body = {"version": "2028.11", "date_from": "2025-01-01", "date_to": "2025-12-31"}
    problem(client.post(f"{PROGRAM}/simulations", json=body, headers=callers["reviewer1"].headers), 403,
            "role_required")
    problem(client.post(f"{PROGRAM}/simulations", json=body, headers=callers["BANK_A"].headers), 403)
    problem(client.post(f"{PROGRAM}/simulations", json={**body, "kinds": ["loans"]},
                        headers=callers["admin"].headers), 422)
    problem(client.post(f"{PROGRAM}/simulations", json={**body, "date_to": "2024-12-31"},
                        headers=callers["admin"].headers), 422, "simulation_range_invalid")
    done = _simulate(client, callers["admin"], "2028.11")
    assert done["progress"] == {"done": 0, "total": 0, "eta_seconds": None}
    problem(client.post(f"{PROGRAM}/simulations/{done['id']}/cancel", headers=callers["admin"].headers), 409,
            "simulation_finished")


def test_a_range_starting_mid_year_opens_with_the_caps_history_had_used_before_it(app, client, callers, db):
    ids = seed_history(db)
    names = {claim_id: name for name, claim_id in ids.items()}
    _draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    started = client.post(f"{PROGRAM}/simulations", json={"version": "2028.11", "date_from": "2025-02-07",
                                                           "date_to": "2025-12-31"}, headers=callers["admin"].headers)
    url = f"{PROGRAM}/simulations/{started.get_json()['id']}"
    for _ in range(600):
        if client.get(url, headers=callers["admin"].headers).get_json()["status"] == "done":
            break
        time.sleep(0.05)
    items = _items(client, callers["admin"], {"id": started.get_json()["id"]})
    # c1..c4 were approved before the range (1,550,000.00 of BANK_A's 1,800,000.00): both sides start there,
    # so c5 gets the 250,000.00 left under the draft too.
    assert [(names[i["claim_id"]], i["baseline"], i["draft"]) for i in items] == [
        ("c5", "250000.00", "250000.00"), ("c6", "0.00", "0.00"), ("c7", "400000.00", "450000.00"),
        ("c8", "350000.00", "350000.00")]


def test_a_simulation_is_cancelled_between_chunks_keeping_what_it_had_done(app, client, callers, db, monkeypatch):
    from claims.models import Simulation
    from claims.services import simulations

    seed_history(db)
    _draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    monkeypatch.setattr(simulations, "launch", lambda *args: None)  # run below, in this thread
    monkeypatch.setattr(simulations, "CHUNK", 2)
    started = client.post(f"{PROGRAM}/simulations", json={"version": "2028.11", "date_from": "2025-01-01",
                                                           "date_to": "2025-12-31"}, headers=callers["admin"].headers)
    assert (started.status_code, started.get_json()["status"]) == (202, "queued")
    simulation_id = started.get_json()["id"]
    url = f"{PROGRAM}/simulations/{simulation_id}"
    busy = problem(client.post(f"{PROGRAM}/simulations", json={"version": "2028.11", "date_from": "2025-01-01",
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
    assert len(_items(client, callers["admin"], body)) == 4
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
    _draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    result = _simulate(client, callers["auditor1"], "2028.11")
    login(client, "auditor1")
    listing = client.get(f"/console{PROGRAM}/simulations")
    assert listing.status_code == 200 and "100000.00" in text(listing)
    page = client.get(f"/console{PROGRAM}/simulations/{result['id']}")
    shown = text(page)
    assert page.status_code == 200
    assert "计算金额 2950000.00 3050000.00 100000.00" in shown and "核准口径 2550000.00 2600000.00 50000.00" in shown
    assert "listed_categories+first_loan 1 450000.00 500000.00 50000.00" in shown
    assert shown.count("per_institution_year_share_of_registered") == 1  # c5, the one cut by the cap
    chart = client.get(f"/console{PROGRAM}/simulations/{result['id']}/by-month.svg")
    assert chart.mimetype == "image/svg+xml" and "script-src" not in chart.headers["Content-Security-Policy"]
    assert "现行规则" in chart.get_data(as_text=True)
    book = client.get(f"/console{PROGRAM}/simulations/{result['id']}.xlsx")
    assert load_workbook(io.BytesIO(book.data), read_only=True)["汇总"]["D2"].value == "100000.00"


def test_the_bureaus_budget_adjustments_count_on_both_sides_of_the_replay(app, client, callers, db):
    from claims import ledger

    ids = seed_history(db)
    names = {claim_id: name for name, claim_id in ids.items()}
    _draft(client, callers["admin"], "2028.12", {"budget.annual.2025": "1000000.00"})

    def draft_side(result):
        return {names[i["claim_id"]]: (i["draft"], i["draft_binding"])
                for i in _items(client, callers["auditor1"], result) if names[i["claim_id"]] in ("c1", "c2", "c3", "c4")}

    before = _simulate(client, callers["auditor1"], "2028.12")
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
    after = _simulate(client, callers["auditor1"], "2028.12")
    assert draft_side(after) == {"c1": ("400000.00", ""), "c2": ("300000.00", ""), "c3": ("450000.00", ""),
                                 "c4": ("350000.00", "program_budget")}
    assert _fen(after["totals"]["approved"]["draft"]) - _fen(before["totals"]["approved"]["draft"]) == 500_000_00
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
    _draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    reference = _simulate(client, callers["admin"], "2028.11")
    monkeypatch.setattr(simulations, "launch", lambda *args: None)  # the instance stops before its thread starts
    body = {"version": "2028.11", "date_from": "2025-01-01", "date_to": "2025-12-31"}
    queued = client.post(f"{PROGRAM}/simulations", json=body, headers=callers["admin"].headers).get_json()
    deps = JobDeps.from_app(app)
    fresh = run_job(deps, "simulation_runs")  # queued a moment ago: its own thread may still take it
    assert (fresh.status, fresh.counts["resumed"], fresh.counts["run"]) == ("done", 0, 0)
    db.expire_all()
    assert db.get(Simulation, queued["id"]).status == "queued"
    db.get(Simulation, queued["id"]).created_at = utcnow() - timedelta(minutes=2)
    db.commit()
    run = run_job(deps, "simulation_runs")
    assert (run.status, run.counts["resumed"], run.counts["run"]) == ("done", 0, 1)
    done = client.get(f"{PROGRAM}/simulations/{queued['id']}", headers=callers["admin"].headers).get_json()
    assert done["status"] == "done" and done["totals"] == reference["totals"]

    # A runner that stopped after its first chunk: "running", 4 of 9 items written, no heartbeat for 11 minutes.
    stalled = client.post(f"{PROGRAM}/simulations", json=body, headers=callers["admin"].headers).get_json()
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
    resumed = client.get(f"{PROGRAM}/simulations/{stalled['id']}", headers=callers["admin"].headers).get_json()
    assert (resumed["status"], resumed["progress"]["done"], resumed["progress"]["total"]) == ("done", 9, 9)
    assert resumed["totals"] == reference["totals"]
    assert len(_items(client, callers["admin"], resumed)) == 9
    db.commit()  # a fresh snapshot (SQLite): see what the runners wrote
    assert db.exec(select(AuditEvent.action).where(AuditEvent.entity == "simulation",
                                                   AuditEvent.entity_id == str(stalled["id"]))).all() == [
        "started", "resumed"]


def test_the_console_starts_a_simulation_that_prices_as_the_api_does_and_refuses_in_chinese(app, client, callers, db):
    from tests.api.test_console_pages import login, text

    seed_history(db)
    _draft(client, callers["admin"], "2028.12", {"compensation.uplifts[0].add": "0.15"})
    _, token = login(client, "auditor1")
    program = client.get("/console/programs/sz-sme-pool")
    assert "政策模拟：用草案重算历史" in text(program)
    page = client.get(f"/console{PROGRAM}/simulations")
    assert page.status_code == 200 and '<option value="2028.12">2028.12</option>' in page.get_data(as_text=True)
    form = {"csrf_token": token, "version": "2028.12", "date_from": "2025-01-01", "date_to": "2025-12-31"}

    neither = client.post(f"/console{PROGRAM}/simulations", data=form)
    assert neither.status_code == 422 and "请至少选择一类历史" in text(neither)
    backwards = client.post(f"/console{PROGRAM}/simulations", data={**form, "claims": "y", "date_to": "2024-12-31"})
    assert backwards.status_code == 422 and "历史区间的截止日早于起始日。 simulation_range_invalid" in text(backwards)
    assert db.exec(select(sa.func.count()).select_from(SQLModel.metadata.tables["simulation"])).one() == 0

    started = client.post(f"/console{PROGRAM}/simulations", data={**form, "claims": "y"})
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
    by_api = client.get(f"{PROGRAM}/simulations/{simulation_id}", headers=callers["auditor1"].headers).get_json()
    auditor = db.exec(select(User).where(User.username == "auditor1")).one()
    assert by_api["kinds"] == ["claims"] and by_api["created_by"] == f"user:{auditor.id}"
    assert by_api["totals"]["computed"] == {"baseline": "2950000.00", "draft": "3050000.00", "delta": "100000.00"}

    _, reviewer_token = login(client, "reviewer1")
    refused = client.post(f"/console{PROGRAM}/simulations", data={**form, "csrf_token": reviewer_token, "claims": "y"})
    assert refused.status_code == 403
