"""One simulated item with both traces side by side, rebuilt on demand from the amounts' inputs.

The replay stores per item only what the results read and the cap usage each side saw just before it.
Asked for one item, this prices it again under its baseline version and the simulated draft with that
usage, which is the same arithmetic the replay did, so the traces end on the stored amounts.
"""
from __future__ import annotations

import logging
from types import SimpleNamespace

from sqlmodel import Session

from claims.errors import Problem
from claims.models import RuleVersion, Simulation, SimulationItem
from claims.services import lpr
from claims.services.review import CALENDAR
from claims.services.simulation_applications import stream_applications
from claims.services.simulation_history import stream_history
from claims.services.simulation_results import item_of
from workflows.simulation import Bases

log = logging.getLogger(__name__)
_FIELDS = ("seq", "subject_type", "subject_id", "institution_id", "status", "history_on", "month", "category",
           "baseline_fen", "draft_fen", "delta_fen", "baseline_eligible", "draft_eligible", "baseline_binding",
           "draft_binding")


def lpr_or_none(session: Session):
    """The LPR history, or None when there is none (an interest subsidy then prices as an error item)."""
    try:
        return lpr.lpr_table(session)
    except Problem:
        return None


def draft_rule(session: Session, registry, simulation: Simulation):
    """The draft as it was simulated: its stored document, even if the draft was saved again since."""
    row = session.get(RuleVersion, simulation.draft_version_id)
    if simulation.draft_parameters and (row is None or row.sha256 != simulation.draft_sha256):
        row = SimpleNamespace(id=simulation.draft_version_id, sha256=simulation.draft_sha256, status="draft",
                              parameters=simulation.draft_parameters, program_code=simulation.program_code,
                              version=row.version if row is not None else "")
    return registry.rule_of(row)


def _history_item(session: Session, simulation: Simulation, item: SimulationItem):
    stream = stream_history if item.subject_type == "claim" else stream_applications
    for chunk in stream(session, code=simulation.program_code, date_from=simulation.date_from,
                        date_to=simulation.date_to, institutions=simulation.institutions, chunk=1,
                        subject_id=item.subject_id):
        return next(iter(chunk), None)
    return None


def reprice(session: Session, registry, simulation: Simulation, item: SimulationItem) -> tuple | None:
    """The item priced again as the replay priced it (baseline side, draft side), or None if it cannot be."""
    history = _history_item(session, simulation, item) if len(item.usage) == 2 else None
    if history is None:  # no longer in the range as stored (or an item from before cap usage was kept)
        return None
    bases = Bases(lpr=lpr_or_none(session) if item.subject_type == "application" else None, calendar=CALENDAR)
    rules = (registry.rule_of(session.get(RuleVersion, item.baseline_version_id)),
             draft_rule(session, registry, simulation))
    return tuple(history.price_with(rule, history.usage_from(values), bases) for rule, values in zip(rules, item.usage))


def item_detail(session: Session, registry, simulation: Simulation, subject_id: int) -> SimpleNamespace | None:
    """One item of a simulation with its baseline and draft traces, or None when it is not in the simulation."""
    item = item_of(session, simulation.id, subject_id)
    if item is None:
        return None
    detail = SimpleNamespace(**{name: getattr(item, name) for name in _FIELDS}, baseline_trace=[], draft_trace=[])
    sides = reprice(session, registry, simulation, item)
    if sides is None:
        detail.baseline_trace = detail.draft_trace = [_note("the item can no longer be repriced")]
        return detail
    detail.baseline_trace, detail.draft_trace = sides[0].trace, sides[1].trace
    if (sides[0].amount_fen, sides[1].amount_fen) != (item.baseline_fen, item.draft_fen):
        # The stored facts changed after the run (a loan or a firm's lists edited): say so rather than
        # show a trace that ends on a different amount without explanation.
        log.warning("simulation %s item %s: repriced %s/%s, stored %s/%s", simulation.id, subject_id,
                    sides[0].amount_fen, sides[1].amount_fen, item.baseline_fen, item.draft_fen)
        for trace in (detail.baseline_trace, detail.draft_trace):
            trace.append(_note("the stored facts changed after the simulation: this trace is of today's facts"))
    return detail


def _note(text: str) -> dict:
    return {"step": "note", "value": None, "detail": text}
