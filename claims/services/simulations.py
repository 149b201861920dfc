"""What-if simulations: start one (bureau staff), run it in the background with progress, cancel it, read it."""
from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from datetime import date, timedelta
from itertools import islice

from sqlalchemy import delete, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import SYSTEM, Principal
from claims.db import begin_write
from claims.errors import Conflict, NotFound, Unprocessable
from claims.models import RuleVersion, Simulation, SimulationItem
from claims.models.base import utcnow
from claims.services.programs import get_program
from claims.services.review import CALENDAR
from claims.services.rule_changes import version_row
from claims.services.simulation_applications import (
    count_applications,
    stream_applications,
    stream_shared_usage,
)
from claims.services.simulation_history import bases_of, count_history, stream_history
from claims.services.simulation_items import draft_rule, lpr_or_none
from claims.services.simulation_results import summarise
from claims.services.simulation_store import write_items
from workflows.registry import NoRuleInForce
from workflows.simulation import Outcome, engine_version, replay, usage_values, year_budget

log = logging.getLogger(__name__)
# The usage is JSON text in the row already, so a row holds plain values only (the collector stops tracking it).
_json = json.JSONEncoder(separators=(",", ":")).encode
SIMULATING_ROLES = ("admin", "approver", "auditor")
# Items priced, written and committed together; progress and cancel requests are seen once per chunk
# (a quarter of a second or so at full speed).
CHUNK = 2000
STALE_AFTER = timedelta(minutes=10)  # a running simulation writes a chunk far more often than this
UNLAUNCHED_AFTER = timedelta(minutes=1)  # a queued one the API's thread never took (its instance stopped)
_FINAL = ("done", "failed", "cancelled")


def start_simulation(session: Session, *, principal: Principal, code: str, version: str, kinds: list[str],
                     date_from: date, date_to: date, institutions: list[int]) -> Simulation:
    """Record a simulation's inputs (the draft's digest, the range, the engine version) and queue it."""
    principal.require(*SIMULATING_ROLES)
    begin_write(session)
    get_program(session, code=code)
    draft = version_row(session, code=code, version=version)
    # One replay at a time per program: each reads the whole history and the machine is shared.
    busy = session.exec(select(Simulation.id).where(Simulation.program_code == code,
                                                    Simulation.status.in_(("queued", "running")),
                                                    Simulation.cancel_requested.is_(False))).first()
    if busy is not None:
        raise Conflict(f"Simulation {busy} of {code} is still running; wait for it or cancel it.",
                       code="simulation_running", extra={"simulation_id": busy})
    if date_to < date_from:
        raise Unprocessable("The range ends before it starts.", code="simulation_range_invalid",
                            errors={"date_to": ["before date_from"]})
    simulation = Simulation(program_code=code, draft_version_id=draft.id, draft_sha256=draft.sha256,
                            draft_parameters=draft.parameters,
                            engine_version=engine_version(), kinds=sorted(set(kinds)), date_from=date_from,
                            date_to=date_to, institutions=sorted(set(institutions)), created_by=principal.actor)
    session.add(simulation)
    session.flush()
    # Who asked which what-if of public money, over which history: audited like any decision of the bureau's.
    record_event(session, actor=principal.actor, entity="simulation", entity_id=simulation.id, action="started",
                 data={"program": code, "draft_version": version, "draft_sha256": draft.sha256,
                       "kinds": simulation.kinds, "date_from": date_from.isoformat(),
                       "date_to": date_to.isoformat(), "institutions": simulation.institutions})
    session.commit()
    return simulation


def get_simulation(session: Session, *, principal: Principal, code: str, simulation_id: int) -> Simulation:
    """One simulation of the program, or 404 (bureau staff)."""
    principal.require(*SIMULATING_ROLES)
    simulation = session.get(Simulation, simulation_id)
    if simulation is None or simulation.program_code != code:
        raise NotFound(f"No simulation {simulation_id} of program {code}.")
    return simulation


def cancel_simulation(session: Session, *, principal: Principal, code: str, simulation_id: int) -> Simulation:
    """Stop a queued simulation now, or ask a running one to stop at its next chunk (bureau staff).

    A simulation asked to stop no longer holds the program's one running slot, so a run orphaned by a
    restarted worker can be cancelled and another started.
    """
    begin_write(session)
    simulation = get_simulation(session, principal=principal, code=code, simulation_id=simulation_id)
    if simulation.status in _FINAL:
        raise Conflict(f"Simulation {simulation_id} is already {simulation.status}.", code="simulation_finished")
    simulation.cancel_requested = True
    if simulation.status == "queued":
        simulation.status, simulation.finished_at = "cancelled", utcnow()
    session.add(simulation)
    record_event(session, actor=principal.actor, entity="simulation", entity_id=simulation.id, action="cancelled",
                 data={"program": code, "status": simulation.status})
    session.commit()
    return simulation


def progress(simulation: Simulation) -> dict:
    """Done / total and the seconds still to go at the pace so far (None until the first chunk is in)."""
    eta = None
    if simulation.status == "running" and simulation.started_at and simulation.done:
        elapsed = (utcnow() - simulation.started_at).total_seconds()
        eta = round(elapsed / simulation.done * (simulation.total - simulation.done), 1)
    return {"done": simulation.done, "total": simulation.total, "eta_seconds": eta}


def start_in_background(session: Session, *, sessions: sessionmaker, registry, principal: Principal, code: str,
                        **inputs) -> Simulation:
    """Record and queue a simulation (start_simulation), then run it on a background thread of this process."""
    simulation = start_simulation(session, principal=principal, code=code, **inputs)
    launch(sessions, registry, simulation.id)
    return simulation


def launch(sessions: sessionmaker, registry, simulation_id: int) -> threading.Thread:
    """Run the simulation on a background thread; its progress and outcome are persisted on its row."""
    thread = threading.Thread(target=run_simulation, args=(sessions, registry, simulation_id),
                              name=f"simulation-{simulation_id}", daemon=True)
    thread.start()
    return thread


def _row(outcome: Outcome, simulation_id: int, seq: int) -> tuple:
    item, base, draft = outcome.item, outcome.baseline, outcome.draft
    on = item.on
    # What the results read, and the cap usage each side saw so an item's traces can be rebuilt exactly.
    return (simulation_id, seq, item.subject_type, item.subject_id, item.institution_id, item.status, on,
            f"{on.year:04d}-{on.month:02d}", outcome.category[:200], base.amount_fen, draft.amount_fen,
            draft.amount_fen - base.amount_fen, base.eligible, draft.eligible, base.binding_cap or "",
            draft.binding_cap or "", item.rule_version_id,
            _json([usage_values(base.usage), usage_values(draft.usage)]))


def _live_budget(registry, simulation: Simulation, bases):
    def budget(year: int) -> int | None:
        try:
            rule = registry.rule_for(simulation.program_code, simulation.date_to)
        except NoRuleInForce:  # no live version on that day: the baseline has no budget to exhaust
            return None
        return year_budget(rule, bases, year)
    return budget


def run_simulation(sessions: sessionmaker, registry, simulation_id: int) -> None:
    """Replay the simulation's history chunk by chunk, writing only its own rows; never touches live tables."""
    with sessions() as writer, sessions() as reader:
        begin_write(writer)
        # Taken by one runner only: the thread the API launched and the scheduler's resume may both try.
        taken = writer.execute(update(Simulation).where(Simulation.id == simulation_id, Simulation.status == "queued")
                               .values(status="running", heartbeat_at=utcnow()).returning(Simulation.id)).first()
        writer.commit()
        if taken is None:
            return
        begin_write(writer)
        simulation = writer.get(Simulation, simulation_id)
        if simulation.cancel_requested:
            simulation.status, simulation.finished_at = "cancelled", utcnow()
            writer.commit()
            return
        try:
            draft = draft_rule(writer, registry, simulation)
            scope = {"code": simulation.program_code, "date_from": simulation.date_from,
                     "date_to": simulation.date_to, "institutions": simulation.institutions}
            streams, total = [], 0
            if "claims" in simulation.kinds:
                streams.append(stream_history(reader, chunk=CHUNK, **scope))
                total += count_history(reader, **scope)
            if "applications" in simulation.kinds:
                streams.append(stream_applications(reader, chunk=CHUNK, **scope))
                total += count_applications(reader, **scope)
                # Not replayed, not counted in the progress: other programs' approvals as history made them.
                streams.append(stream_shared_usage(reader, chunk=CHUNK, code=simulation.program_code,
                                                   date_from=simulation.date_from, date_to=simulation.date_to))
            simulation.total, simulation.status, simulation.started_at = total, "running", utcnow()
            writer.commit()
            rules: dict[int, object] = {}

            def baseline_of(version_id: int):
                if version_id not in rules:
                    rules[version_id] = registry.rule_of(writer.get(RuleVersion, version_id))
                return rules[version_id]

            seq, started = 0, time.monotonic()
            # Claims and applications each come in approval order; merged by day they are one history.
            flat = [(item for chunk in stream for item in chunk) for stream in streams]
            items = flat[0] if len(flat) == 1 else heapq.merge(*flat, key=lambda item: item.on)
            bases = bases_of(reader, code=simulation.program_code, date_from=simulation.date_from)
            bases.lpr, bases.calendar = lpr_or_none(reader) if "applications" in simulation.kinds else None, CALENDAR
            outcomes = replay(items, baseline=lambda item: baseline_of(item.rule_version_id), draft=draft,
                              bases=bases)
            # Each outcome becomes its row at once and is freed: only rows of plain values wait for the write.
            while rows := [_row(outcome, simulation_id, seq + n) for n, outcome in enumerate(islice(outcomes, CHUNK), 1)]:
                seq += len(rows)
                begin_write(writer)
                write_items(writer, rows)
                # Progress out and a cancel request in, in one round trip.
                cancelled = writer.execute(update(Simulation).where(Simulation.id == simulation_id)
                                           .values(done=seq, heartbeat_at=utcnow())
                                           .returning(Simulation.cancel_requested)).scalar_one()
                if cancelled:
                    writer.refresh(simulation)
                    simulation.status, simulation.finished_at = "cancelled", utcnow()
                    writer.commit()
                    return
                writer.commit()
            begin_write(writer)
            simulation.totals = summarise(writer, simulation,
                                          draft_budget=lambda year: year_budget(draft, bases, year),
                                          baseline_budget=_live_budget(registry, simulation, bases))
            simulation.status, simulation.finished_at = "done", utcnow()
            writer.commit()
            log.info("simulation %s: %s items in %.1fs", simulation_id, seq, time.monotonic() - started)
        except Exception as exc:
            log.exception("simulation %s failed", simulation_id)
            writer.rollback()
            begin_write(writer)
            simulation = writer.get(Simulation, simulation_id)
            simulation.status, simulation.error, simulation.finished_at = "failed", str(exc)[:2000], utcnow()
            writer.commit()


def resume_simulations(sessions: sessionmaker, registry, *, now=None) -> dict:
    """Run what no runner holds: queued simulations no thread took, and running ones whose heartbeat stopped."""
    now = now or utcnow()
    with sessions() as session:
        begin_write(session)
        stalled = session.exec(select(Simulation).where(Simulation.status == "running",
                                                        Simulation.heartbeat_at < now - STALE_AFTER)).all()
        for simulation in stalled:
            # The stopped runner's items are dropped and the replay starts again from the first item: the
            # caps accumulate over the whole history, so a replay cannot pick up in the middle.
            session.execute(delete(SimulationItem).where(SimulationItem.simulation_id == simulation.id))
            record_event(session, actor=SYSTEM.actor, entity="simulation", entity_id=simulation.id, action="resumed",
                         data={"done": simulation.done, "heartbeat_at": simulation.heartbeat_at.isoformat()})
            simulation.status, simulation.done, simulation.heartbeat_at = "queued", 0, None
            session.add(simulation)
        session.commit()
        waiting = session.exec(select(Simulation.id).where(Simulation.status == "queued",
                                                           Simulation.created_at < now - UNLAUNCHED_AFTER)
                               .order_by(Simulation.id)).all()
    for simulation_id in waiting:
        run_simulation(sessions, registry, simulation_id)
    return {"resumed": len(stalled), "run": len(waiting)}
