"""Simulation items keep amounts, not traces: the replay prices without writing traces out, and an item's two
traces are rebuilt on demand from the cap usage it saw, ending on the amounts the replay stored."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from tests.api import simulation_calls as sim
from tests.api.simulation_history import seed_history


def _last_amount(trace: list[dict]) -> int:
    """The amount a trace ends on: the requested amount when that capped it, else the final step's fen."""
    last = trace[-1]
    return sim.fen(last["value"]) if last["step"] == "cap:requested" else last["fen"]


def test_pricing_without_writing_traces_gives_the_engines_traced_amounts_for_the_demo_claims(app, db):
    from claims.models import Claim, RuleVersion
    from claims.services import demo
    from claims.services.simulation_history import bases_of, stream_history
    from workflows.compensation import compute_compensation
    from workflows.simulation import replay

    ext = app.extensions["claims"]
    demo.load_demo_activity(db, ext["programs"], today=date(2026, 3, 2), settings=ext["settings"])
    db.commit()
    registry, checked = ext["programs"], 0
    for code in sorted(set(db.exec(select(Claim.program_code)).all())):
        scope = {"code": code, "date_from": date(2000, 1, 1), "date_to": date(2100, 12, 31), "institutions": []}
        items = [item for chunk in stream_history(db, **scope) for item in chunk]
        rules = {item.rule_version_id: registry.rule_of(db.get(RuleVersion, item.rule_version_id)) for item in items}
        # Any stored version serves as the draft: what matters is the same pricing with and without traces.
        draft = next(iter(rules.values()))
        outcomes = replay(items, baseline=lambda item, rules=rules: rules[item.rule_version_id], draft=draft,
                          bases=bases_of(db, code=code, date_from=scope["date_from"]))
        for outcome in outcomes:
            item = outcome.item
            for side, rule in ((outcome.baseline, rules[item.rule_version_id]), (outcome.draft, draft)):
                traced = compute_compensation(rule, item.loan, item.claim, side.usage)
                trace = traced.trace  # written out first, then the amount read
                expected = traced.amount_fen
                if item.requested_fen is not None:
                    expected = min(expected, item.requested_fen)
                assert side.amount_fen == (expected if side.eligible else 0)
                assert side.trace[:len(trace)] == trace
                if side.eligible:
                    assert _last_amount(side.trace) == side.amount_fen
                checked += 1
    assert checked >= 8, "the demo activity should give the replay claims to price"


def test_an_items_traces_are_rebuilt_on_demand_and_end_on_the_stored_amounts(app, client, callers, db):
    from claims.models import Simulation, SimulationItem
    from claims.services.simulation_items import reprice

    seed_history(db)
    sim.draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    result = sim.simulate(client, callers["auditor1"], "2028.11")
    items = sim.items(client, callers["auditor1"], result)
    assert len(items) == 9
    for item in items:
        detail = client.get(f"{sim.PROGRAM}/simulations/{result['id']}/items/{item['claim_id']}",
                            headers=callers["auditor1"].headers).get_json()
        assert {k: detail[k] for k in item} == item
        for side in ("baseline", "draft"):
            trace = detail[f"{side}_trace"]
            assert "note" not in {step["step"] for step in trace}
            assert trace[0]["step"] == "rule"
            if detail[f"{side}_eligible"]:
                assert _last_amount(trace) == sim.fen(item[side])
    # The service's own check, item by item: priced again with the stored cap usage, the amounts are the stored ones.
    simulation = db.get(Simulation, result["id"])
    stored = db.exec(select(SimulationItem).where(SimulationItem.simulation_id == simulation.id)).all()
    for row in stored:
        baseline, draft = reprice(db, app.extensions["claims"]["programs"], simulation, row)
        assert (baseline.amount_fen, draft.amount_fen) == (row.baseline_fen, row.draft_fen)
        assert (baseline.eligible, draft.eligible) == (row.baseline_eligible, row.draft_eligible)
        assert (baseline.binding_cap or "", draft.binding_cap or "") == (row.baseline_binding, row.draft_binding)


def test_a_draft_saved_again_after_the_run_leaves_the_items_traces_as_simulated(app, client, callers, db):
    ids = seed_history(db)
    sim.draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.15"})
    result = sim.simulate(client, callers["auditor1"], "2028.11")
    url = f"{sim.PROGRAM}/simulations/{result['id']}/items/{ids['c1']}"
    before = client.get(url, headers=callers["auditor1"].headers).get_json()
    sim.draft(client, callers["admin"], "2028.11", {"compensation.uplifts[0].add": "0.30"})
    after = client.get(url, headers=callers["auditor1"].headers).get_json()
    assert after == before and _last_amount(after["draft_trace"]) == sim.fen(before["draft"])
