"""Read-only figures for the bureau's oversight: budget use by month, breaker measures, review speed, events."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlmodel import Session, select

from claims.models import Admission, AuditEvent, Decision, Institution, LedgerAccount, LedgerEntry, LedgerPosting
from claims.services import breakers
from workflows.calendar import WorkCalendar
from workflows.flows import STAGE_OF_STATE

CALENDAR = WorkCalendar()
LOCAL = ZoneInfo("Asia/Shanghai")


def waiting_by_status(session: Session, statement, model, *, overdue_on: date) -> dict[str, tuple[int, int]]:
    """Per status, how many of the items a scoped select sees wait in it, and how many are past their stage's
    due date: one grouped count for the console's overview instead of two counts per queue."""
    late = func.coalesce(func.sum(case((model.stage_due_on < overdue_on, 1), else_=0)), 0)
    rows = session.execute(statement.with_only_columns(model.status, func.count(), late).group_by(model.status))
    return {status: (int(waiting), int(overdue)) for status, waiting, overdue in rows}


def budget_use_by_month(session: Session, *, program_code: str, year: int) -> dict[int, dict[str, int]]:
    """Fen reserved (approvals) and paid in each month of a program-year, from the ledger's postings."""
    month = func.extract("month", LedgerPosting.at)
    rows = session.exec(
        select(month, LedgerAccount.kind, func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerEntry, LedgerEntry.posting_id == LedgerPosting.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.program_code == program_code, LedgerAccount.year == year,
               LedgerAccount.kind.in_(("reserved", "paid")), LedgerEntry.amount_fen > 0)
        .group_by(month, LedgerAccount.kind)).all()
    by_month: dict[int, dict[str, int]] = {m: {"reserved": 0, "paid": 0} for m in range(1, 13)}
    for number, kind, total in rows:
        by_month[int(number)][kind] = int(total)
    return by_month


@dataclass(frozen=True)
class BankMeasure:
    """One admitted institution's breaker metric against the program's threshold."""

    institution_id: int
    institution: str
    status: str
    reason: str
    metric: str
    label: str
    numerator_fen: int
    denominator_fen: int
    ratio: Decimal | None
    threshold: Decimal

    @property
    def over(self) -> bool:
        """Whether the measure passes the threshold."""
        return self.ratio is not None and self.ratio > self.threshold


def bank_measures(session: Session, *, rule, year: int) -> list[BankMeasure]:
    """Each admitted institution's measure for each of the program's breakers, this year."""
    rows = session.exec(select(Admission, Institution).join(Institution, Institution.id == Admission.institution_id)
                        .where(Admission.program_code == rule.code).order_by(Institution.code)).all()
    result = []
    for admission, institution in rows:
        for breaker in rule.breakers:
            num, den = breakers.measure(session, metric=breaker.metric, institution_id=institution.id,
                                        program_code=rule.code, year=year)
            result.append(BankMeasure(institution.id, institution.name, admission.status, admission.reason,
                                      breaker.metric, breaker.label or breaker.metric, num, den,
                                      (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001")) if den else None,
                                      breaker.threshold))
    return result


def breaker_events(session: Session, *, program_code: str, limit: int = 50) -> list[AuditEvent]:
    """The latest breakers tripped and lifted in a program, newest first."""
    events = session.exec(select(AuditEvent).where(AuditEvent.entity == "admission",
                                                   AuditEvent.action.in_(("breaker_tripped", "breaker_lifted")))
                          .order_by(AuditEvent.seq.desc()).limit(limit * 4)).all()
    return [e for e in events if (e.data or {}).get("program") == program_code][:limit]


@dataclass(frozen=True)
class StageSpeed:
    """How long a review stage took, in working days, over the items that left it."""

    stage: str
    count: int
    median: Decimal | None
    p90: int | None


def _local_day(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))).astimezone(LOCAL).date()


def _percentile(ordered: list[int], q: Decimal) -> int:
    # Nearest rank: the smallest value with at least q of the items at or below it.
    rank = max(1, int((q * len(ordered)).to_integral_value(rounding="ROUND_CEILING")))
    return ordered[rank - 1]


def review_speed(session: Session, *, subject_type: str, program_code: str, since: datetime) -> list[StageSpeed]:
    """Median and 90th percentile working days from entering each stage to leaving it, for decisions since a date."""
    from claims.models import Application, Claim

    model = Claim if subject_type == "claim" else Application
    rows = session.exec(select(Decision.subject_id, Decision.from_state, Decision.to_state, Decision.at)
                        .join(model, model.id == Decision.subject_id)
                        .where(Decision.subject_type == subject_type, model.program_code == program_code,
                               Decision.at >= since).order_by(Decision.subject_id, Decision.id)).all()
    entered: dict[tuple[int, str], date] = {}
    spans: dict[str, list[int]] = {stage: [] for stage in dict.fromkeys(STAGE_OF_STATE.values())}
    for subject_id, from_state, to_state, at in rows:
        before, after = STAGE_OF_STATE.get(from_state), STAGE_OF_STATE.get(to_state)
        if before == after:
            continue
        day = _local_day(at)
        if before and (subject_id, before) in entered:
            spans[before].append(CALENDAR.working_days_between(entered.pop((subject_id, before)), day))
        if after:
            entered[(subject_id, after)] = day
    result = []
    for stage, values in spans.items():
        ordered = sorted(values)
        median = None
        if ordered:
            mid = len(ordered) // 2
            median = Decimal(ordered[mid]) if len(ordered) % 2 else Decimal(ordered[mid - 1] + ordered[mid]) / 2
        result.append(StageSpeed(stage, len(ordered), median, _percentile(ordered, Decimal("0.9")) if ordered else None))
    return result


def events_of(session: Session, *, entity: str, entity_id: int) -> list[AuditEvent]:
    """Every audit event of one claim, application or admission, oldest first."""
    return list(session.exec(select(AuditEvent).where(AuditEvent.entity == entity,
                                                      AuditEvent.entity_id == str(entity_id))
                             .order_by(AuditEvent.seq)))
