"""Returned claims and applications waiting for corrections: their closing dates, and the reminders before them.

A returned item not resubmitted within its program's correction window ([correction] working_days, else
the schedule's sla.correction_working_days) is closed by the SLA sweep as withdrawn. The reminder job
tells the institution `remind_working_days_before` working days before that closing, once per return.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from claims.db import unit_of_work
from claims.models import Application, Claim, Decision
from claims.services import events
from claims.services.programs import loaded_rule
from workflows.calendar import WorkCalendar
from workflows.evidence import correction_closes_on

if TYPE_CHECKING:
    from reports.job_context import JobContext

CALENDAR = WorkCalendar()
SUBJECTS = {"claim": Claim, "application": Application}


@dataclass(frozen=True)
class Returned:
    """One returned item: when it was returned, its window, and the day it closes if still uncorrected."""

    subject_type: str
    id: int
    version: int
    institution_id: int
    returned_on: date
    window: int
    remind_before: int | None
    closes_on: date
    reason: str


def returned_items(session: Session, registry, *, subject_type: str, timezone: str,
                   default_window: int) -> list[Returned]:
    """Every claim or application now returned, with its program's correction window and closing day."""
    model = SUBJECTS[subject_type]
    latest = (select(Decision.subject_id, func.max(Decision.id).label("decision_id"))
              .where(Decision.subject_type == subject_type, Decision.to_state == "returned")
              .group_by(Decision.subject_id).subquery())
    rows = session.exec(select(model.id, model.version, model.institution_id, model.rule_version_id, Decision.at,
                               Decision.reason)
                        .join(latest, latest.c.subject_id == model.id)
                        .join(Decision, Decision.id == latest.c.decision_id)
                        .where(model.status == "returned").order_by(model.id)).all()
    zone = ZoneInfo(timezone)
    items = []
    for subject_id, version, institution_id, rule_version_id, at, reason in rows:
        rule = loaded_rule(session, registry, rule_version_id=rule_version_id)
        window = (rule.correction.working_days if rule.correction and rule.correction.working_days
                  else default_window)
        returned_on = at.replace(tzinfo=UTC).astimezone(zone).date()
        items.append(Returned(subject_type, subject_id, version, institution_id, returned_on, window,
                              rule.correction.remind_working_days_before if rule.correction else None,
                              correction_closes_on(returned_on, window, CALENDAR), reason))
    return items


def deadline_reminders(ctx: "JobContext") -> dict:
    """On working days: remind each institution of returned items closing within their reminder period."""
    if not CALENDAR.is_working_day(ctx.today):
        return {"working_day": False, "reminded": 0}
    schedule = ctx.deps.schedule
    reminded = 0
    with unit_of_work(ctx.deps.sessions) as session:
        for subject_type in SUBJECTS:
            for item in returned_items(session, ctx.deps.registry, subject_type=subject_type,
                                       timezone=schedule.timezone, default_window=schedule.correction_working_days):
                left = CALENDAR.working_days_between(ctx.today, item.closes_on)
                if item.remind_before is None or not 0 < left <= item.remind_before:
                    continue
                event = events.emit(
                    session, type=f"{subject_type}.deadline_due_soon", institution_id=item.institution_id,
                    subject_type=subject_type, subject_id=item.id,
                    dedupe_key=f"reminder:{subject_type}:{item.id}:{item.returned_on.isoformat()}",
                    data={subject_type: item.id, "stage": "correction", "status": "returned",
                          "returned_on": item.returned_on.isoformat(), "closes_on": item.closes_on.isoformat(),
                          "working_days_left": left, "reason": item.reason,
                          "message": f"退回补正期限将至：请在{item.closes_on.isoformat()}前补正并重新提交，"
                                     f"逾期视为撤回"})
                reminded += event is not None
    return {"working_day": True, "reminded": reminded}
