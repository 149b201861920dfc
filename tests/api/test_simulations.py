"""The what-if simulator: drafts never live, history repriced under a draft with caps in history's order."""
from __future__ import annotations

import hashlib
import io

import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import SQLModel, select

from claims.models import User
from tests.api import simulation_calls as sim
from tests.api.simulation_history import LOSS_FEN, seed_history
from tests.helpers import problem


def test_a_draft_is_validated_never_live_and_proposed_through_maker_checker(app, client, callers):
    admin, admin2 = callers["admin"], callers["admin2"]
    registry = app.extensions["claims"]["programs"]
    draft = sim.draft(client, admin, "2028.11", {"compensation.uplifts[0].add": "0.15"})
    assert (draft["status"], draft["parameters"]["compensation"]["uplifts"][0]["add"]) == ("draft", "0.15")
    assert [r.version for r in registry.versions("sz-sme-pool")] == ["2019.1", "2023.1"]
    problem(client.post(f"{sim.PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": "2028.12",
                                                       "set": {"compensation.ceiling": "lots"}},
                        headers=admin.headers), 422, "rule_invalid")
    problem(client.post(f"{sim.PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": "2028.12",
                                                       "set": {"compensation.uplifts[9].add": "0.1"}},
                        headers=admin.headers), 422, "draft_path_invalid")
    problem(client.post(f"{sim.PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": "2023.1", "set": {}},
                        headers=admin.headers), 409, "rule_version_immutable")
    problem(client.post(f"{sim.PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": "x", "set": {}},
                        headers=callers["approver1"].headers), 403, "role_required")
    assert [d["version"] for d in client.get(f"{sim.PROGRAM}/drafts", headers=admin.headers).get_json()] == ["2028.11"]
    # The draft overlaps the live 2023.1, which a proposal may not: it is refused until its dates move.
    problem(client.post(f"{sim.PROGRAM}/drafts/2028.11/propose", json={}, headers=admin.headers), 422,
            "rule_version_overlaps")
    sim.draft(client, admin, "2028.11", {"program.effective_from": "2028-11-01", "program.effective_to": "2030-10-31",
                                      "compensation.uplifts[0].add": "0.15"})
    proposed = client.post(f"{sim.PROGRAM}/drafts/2028.11/propose", json={"reason": "上浮5个百分点"}, headers=admin.headers)
    assert proposed.get_json()["status"] == "proposed"
    problem(client.post(f"{sim.PROGRAM}/drafts/2028.11/propose", json={}, headers=admin.headers), 409,
            "rule_version_not_draft")
    assert client.post(f"/rule-changes/{proposed.get_json()['pending_change_id']}/approve", json={},
                       headers=admin2.headers).get_json()["version_status"] == "live"
    assert [r.version for r in registry.versions("sz-sme-pool")] == ["2019.1", "2023.1", "2028.11"]


def test_raising_one_uplift_by_5pp_moves_each_qualifying_claim_by_5_percent_or_the_cap_room(app, client, callers, db):
    ids = seed_history(db)
    names = {claim_id: name for name, claim_id in ids.items()}
    sim.draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    result = sim.simulate(client, callers["auditor1"], "2028.11")
    items = sim.items(client, callers["auditor1"], result)
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
            assert sim.fen(item["delta"]) == LOSS_FEN * 5 // 100
        elif item["draft_binding"]:
            cap = next(s for s in client.get(f"{sim.PROGRAM}/simulations/{result['id']}/items/{item['claim_id']}",
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
    assert sum(sim.fen(v) for v in by_category.values()) == sim.fen(totals["computed"]["delta"])
    assert sum(sim.fen(r["delta"]) for r in result["differences"]["by_institution"]) == 100000_00
    assert [(r["month"], r["delta"]) for r in result["differences"]["by_month"]] == [
        ("2025-01", "50000.00"), ("2025-02", "50000.00")]
    assert (totals["newly_ineligible"], totals["newly_eligible"], totals["changed"]) == (0, 0, 6)
    # 2,600,000.00 committed over 2025 against a 100,000,000.00 budget: not exhausted within the year.
    assert totals["budget"]["draft"] == {"committed": "2600000.00", "budget": "100000000.00", "per_day": "7123.29",
                                         "exhausted_on": None}
    book = load_workbook(io.BytesIO(client.get(f"{sim.PROGRAM}/simulations/{result['id']}/xlsx",
                                               headers=callers["auditor1"].headers).data), read_only=True)
    rows = list(book["明细"].values)
    assert rows[0][:3] == ("序号", "理赔编号", "机构") and len(rows) == 10
    assert [r[8] for r in rows[1:]] == [got[names[r[1]]][2] for r in rows[1:]]


def test_a_draft_identical_to_live_changes_nothing_and_the_same_inputs_give_the_same_result(app, client, callers, db):
    seed_history(db)
    sim.draft(client, callers["admin"], "2028.11", {})
    first = sim.simulate(client, callers["approver1"], "2028.11")
    assert {i["delta"] for i in sim.items(client, callers["approver1"], first)} == {"0.00"}
    assert first["totals"]["computed"]["delta"] == "0.00"
    again = sim.simulate(client, callers["admin"], "2028.11")
    assert (again["draft_sha256"], again["engine_version"]) == (first["draft_sha256"], first["engine_version"])
    assert again["totals"] == first["totals"] and again["differences"] == first["differences"]
    listed = sim.items(client, callers["admin"], first)
    assert sim.items(client, callers["admin"], again) == listed

    def detail(simulation, claim_id):
        return client.get(f"{sim.PROGRAM}/simulations/{simulation['id']}/items/{claim_id}",
                          headers=callers["admin"].headers).get_json()

    for item in listed:  # the traces too, both sides, item by item
        assert detail(again, item["claim_id"]) == detail(first, item["claim_id"])
    one = detail(first, listed[0]["claim_id"])
    assert [s["step"] for s in one["baseline_trace"]] == [s["step"] for s in one["draft_trace"]]
    assert one["baseline_trace"][-1] == one["draft_trace"][-1]


def test_tightening_the_institution_cap_lists_the_cut_claims_in_approval_order(app, client, callers, db):
    ids = seed_history(db)
    names = {claim_id: name for name, claim_id in ids.items()}
    sim.draft(client, callers["admin"], "2028.11", {"caps.per_institution_year_share_of_registered": "0.04"})
    result = sim.simulate(client, callers["auditor1"], "2028.11")
    cut = [(names[i["claim_id"]], i["baseline"], i["draft"]) for i in sim.items(client, callers["auditor1"], result)
           if sim.fen(i["delta"]) < 0]
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
    sim.draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    engine = app.extensions["claims"]["engine"]
    before, events_before = _digest(engine), _events(engine)
    assert len(before) > 30
    simulation = sim.simulate(client, callers["auditor1"], "2028.11")
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
    sim.draft(client, callers["admin"], "2028.11", {})
    body = {"version": "2028.11", "date_from": "2025-01-01", "date_to": "2025-12-31"}
    problem(client.post(f"{sim.PROGRAM}/simulations", json=body, headers=callers["reviewer1"].headers), 403,
            "role_required")
    problem(client.post(f"{sim.PROGRAM}/simulations", json=body, headers=callers["BANK_A"].headers), 403)
    problem(client.post(f"{sim.PROGRAM}/simulations", json={**body, "kinds": ["loans"]},
                        headers=callers["admin"].headers), 422)
    problem(client.post(f"{sim.PROGRAM}/simulations", json={**body, "date_to": "2024-12-31"},
                        headers=callers["admin"].headers), 422, "simulation_range_invalid")
    done = sim.simulate(client, callers["admin"], "2028.11")
    assert done["progress"] == {"done": 0, "total": 0, "eta_seconds": None}
    problem(client.post(f"{sim.PROGRAM}/simulations/{done['id']}/cancel", headers=callers["admin"].headers), 409,
            "simulation_finished")
