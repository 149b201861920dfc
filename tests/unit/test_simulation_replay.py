"""The pure what-if replay: caps accumulate per side in history's order; committed items only use them up."""
from __future__ import annotations

import copy
from datetime import date

from workflows.facts import ClaimFacts, EnterpriseFacts, LoanFacts
from workflows.rules import parse_rule
from workflows.simulation import Bases, HistoryItem, replay

LOSS = 1_000_000_00


def _rule(programs, **caps):
    live = programs.rule_for("sz-sme-pool", date(2024, 3, 1))
    document = copy.deepcopy(live.to_dict())
    document.pop("examples", None)
    document["program"]["version"] = "draft"
    document["caps"].update(caps)
    return live, parse_rule(document)


def _item(n: int, status: str = "approved", owner: int | None = None) -> HistoryItem:
    loan = LoanFacts(principal_fen=LOSS, disbursed_on=date(2024, 3, 1), maturity_on=date(2025, 2, 28),
                     enterprise=EnterpriseFacts(revenue_fen=5_000_000_00))
    claim = ClaimFacts(default_on=date(2024, 9, 1), outstanding_principal_fen=LOSS, claimed_on=date(2025, 1, 10))
    return HistoryItem(claim_id=n, institution_id=1, owner=("enterprise", owner or n), loan=loan, claim=claim,
                       status=status, budget_year=2025, on=date(2025, 2, n))


def test_a_tighter_enterprise_cap_cuts_the_later_claims_of_one_firm_in_order(programs):
    live, draft = _rule(programs, per_enterprise_year="500000.00")
    bases = Bases(registered=lambda institution, year: 1_000_000_000_00)
    items = [_item(1, owner=7), _item(2, status="rejected", owner=7), _item(3, owner=7), _item(4, owner=8)]
    got = [(o.item.claim_id, o.baseline.amount_fen, o.draft.amount_fen, o.draft.binding_cap)
           for o in replay(items, baseline=lambda item: live, draft=draft, bases=bases)]
    # 30 % of 1,000,000.00 each; firm 7 may have 500,000.00 a year under the draft. The rejected claim is
    # priced against what claim 1 used but uses nothing up itself, so claim 3 too gets the 200,000.00 left.
    assert got == [(1, 300_000_00, 300_000_00, None), (2, 300_000_00, 200_000_00, "per_enterprise_year"),
                   (3, 300_000_00, 200_000_00, "per_enterprise_year"), (4, 300_000_00, 300_000_00, None)]


def test_usage_before_the_range_opens_both_sides(programs):
    live, draft = _rule(programs)
    used = {("enterprise_year", ("enterprise", 7, 2025)): 2_900_000_00}
    bases = Bases(registered=lambda institution, year: 1_000_000_000_00, opening=lambda kind, key: used.get((kind, key), 0))
    (outcome,) = replay([_item(1, owner=7)], baseline=lambda item: live, draft=draft, bases=bases)
    assert (outcome.baseline.amount_fen, outcome.draft.amount_fen) == (100_000_00, 100_000_00)
    assert outcome.baseline.binding_cap == "per_enterprise_year" and outcome.category == "none"
