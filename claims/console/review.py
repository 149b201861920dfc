"""The console's one door to the review services: what to list, show and do for claims and applications.

Each kind of subject names the same service functions the API calls; the console never changes a
state itself. `open_actions` asks the subject's review flow which actions this person could take now
(roles, four eyes, breakers), so a page offers only those; the service still decides when one is posted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Callable

from claims.models import Application, Claim
from claims.services import applications, claims
from claims.services import review as engine
from claims.services.programs import loaded_rule
from workflows.flows import DEFAULT_STAGE_ROLES, DEFAULT_STAGES, STAGE_OF_STATE, separation_refusals
from workflows.machine import TransitionError

# The staff actions a page may offer, in the order their buttons show.
STAFF_ACTIONS = ("start_review", "pass", "approve", "pay", "return", "reject", "revoke")
STAGE_STATES = {stage: tuple(s for s, st in STAGE_OF_STATE.items() if st == stage)
                for stage in dict.fromkeys(STAGE_OF_STATE.values())}


@dataclass(frozen=True)
class Subject:
    """How one kind of reviewed item is listed, read, decided and moved."""

    kind: str  # "claim" | "application"
    label: str
    list: Callable
    get: Callable
    decisions: Callable
    transition: Callable
    id_arg: str
    reviewable: engine.Reviewable
    scoped: Callable  # the select of items a principal may see
    model: type

    def get_one(self, db, principal, item_id: int):
        """One item the caller may see (404 otherwise)."""
        return self.get(db, principal=principal, **{self.id_arg: item_id})

    def decisions_of(self, db, item):
        """Its decisions, oldest first."""
        return self.decisions(db, **{self.kind: item})

    def move(self, db, *, principal, registry, item_id: int, action: str, version: int, today: date, reason: str,
             amount_fen: int | None):
        """Take one action through the service (which checks roles, guards, version and budget)."""
        return self.transition(db, principal=principal, registry=registry, expected_version=version, today=today,
                               action=action, reason=reason, amount_fen=amount_fen, **{self.id_arg: item_id})


SUBJECTS = {
    "claim": Subject("claim", "代偿申请", claims.list_claims, claims.get_claim, claims.decisions_of,
                     claims.transition_claim, "claim_id", claims.CLAIM_REVIEW, claims.scoped_claims, Claim),
    "application": Subject("application", "补贴/奖励申请", applications.list_applications,
                           applications.get_application, applications.decisions_of,
                           applications.transition_application, "application_id", applications.APPLICATION_REVIEW,
                           applications.scoped_applications, Application),
}


def open_actions(db, registry, subject: Subject, item, principal) -> list[str]:
    """The staff actions this person could take on the item now (a reason, when needed, is asked on the form).

    The same checks the engine makes before it acts: the flow's roles and guards (four eyes, breaker),
    then separation of duties over the stages this person already took on the item.
    """
    rule = loaded_rule(db, registry, rule_version_id=item.rule_version_id)
    flow = engine.flow_of(subject.reviewable, rule)
    holds = subject.reviewable.breaker_holds(db, item)
    actors = engine.stage_actors(db, subject.reviewable, flow, item)
    context = {"actor_user_id": principal.user_id, "first_reviewer_id": item.first_reviewer_id,
               "amount_fen": None, "computed_fen": item.computed_fen, "reason": "(asked on the form)",
               "breaker_holds": holds}
    offered = []
    for action in STAFF_ACTIONS:
        try:
            transition = flow.plan(action, item.status, principal.roles, context)
        except TransitionError:
            continue
        if not separation_refusals(transition.stage, principal.user_id, actors, rule.distinct_stages):
            offered.append(action)
    return offered


def stages_for(registry, principal) -> list[str]:
    """The review stages (of those some program declares) whose role this person holds in at least one program."""
    declared, held = set(), set()
    for code in registry.programs():
        for rule in registry.versions(code):
            stages = {s.name: s.role for s in rule.review_stages} or {s: DEFAULT_STAGE_ROLES[s] for s in DEFAULT_STAGES}
            declared |= set(stages)
            held |= {name for name, role in stages.items() if role in principal.roles}
    if principal.roles & {"admin", "auditor"}:
        held = declared  # they watch every queue, though they act on none
    return [stage for stage in STAGE_STATES if stage in held]


@lru_cache(maxsize=64)
def _running_count(year: int) -> tuple[int, ...]:
    """For each day of a year (by ordinal in the year), the working days from 1 January up to and including it."""
    counts, total, day = [], 0, date(year, 1, 1)
    while day.year == year:
        total += engine.CALENDAR.is_working_day(day)
        counts.append(total)
        day += timedelta(days=1)
    return tuple(counts)


def working_days_late(due_on: date | None, today: date) -> int:
    """Working days past the stage's due date (0 when not late); the engine's calendar, read a year at a time.

    The same count as WorkCalendar.working_days_between, without asking the calendar day by day for
    every row of a queue whose oldest item may be years overdue.
    """
    if due_on is None or due_on >= today:
        return 0
    whole_years = sum(_running_count(year)[-1] for year in range(due_on.year, today.year))
    return (whole_years + _running_count(today.year)[today.timetuple().tm_yday - 1]
            - _running_count(due_on.year)[due_on.timetuple().tm_yday - 1])
