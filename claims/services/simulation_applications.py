"""Applications as the simulator replays them: streamed in approval order with the facts they were computed from,
and other subsidy programs' approvals, which use up the firm caps every subsidy shares."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from claims.models import Application, Enterprise, Institution, Loan
from claims.services.application_checks import COMMITTED_STATES, NOT_CURRENT_LOAN_STATES, SUBSIDY_KINDS
from claims.services.facts import enterprise_facts_many, loan_facts
from claims.services.simulation_history import NO_FIRM, approvals, count_rows, history_select
from workflows.simulation_subsidy import ApplicationItem, SharedUsage
from workflows.subsidy import FeeFacts, InterestFacts

_FACTS = (Application.id, Application.institution_id, Application.enterprise_id, Application.loan_id,
          Application.kind, Application.fee_kind, Application.status, Application.rule_version_id,
          Application.period_start, Application.period_end, Application.applied_on, Application.basis_fen,
          Application.outstanding_principal_fen, Application.budget_year, Application.submitted_at,
          Application.created_at, Application.trace)


def _history(code: str, date_from: date, date_to: date, institutions: list[int], subject_id: int | None = None):
    return history_select(Application, _FACTS, "application", code=code, date_from=date_from, date_to=date_to,
                          institutions=institutions, subject_id=subject_id)


def count_applications(session: Session, *, code: str, date_from: date, date_to: date, institutions: list[int]) -> int:
    """How many applications the replay will price."""
    return count_rows(session, _history(code, date_from, date_to, institutions)[0])


def _facts(row, loan: Loan | None, firm_facts):
    if row.kind == "reward" or loan is None:
        return None
    facts = loan_facts(loan, firm_facts.get(loan.enterprise_id, NO_FIRM))
    if row.kind == "fee_subsidy":
        return FeeFacts(loan=facts, fee_kind=row.fee_kind, fee_paid_fen=row.basis_fen, applied_on=row.applied_on)
    overdue, extended = _loan_state(row.trace, loan)
    return InterestFacts(loan=facts, loan_rate=Decimal(loan.annual_rate), period_start=row.period_start,
                         period_end=row.period_end, interest_paid_fen=row.basis_fen,
                         outstanding_principal_fen=row.outstanding_principal_fen, overdue=overdue,
                         extended=extended, applied_on=row.applied_on)


def _loan_state(trace, loan: Loan) -> tuple[bool, bool]:
    """Whether the loan was overdue or extended when history last computed the application, from its trace's
    inputs; a loan's state changes after the fact (it defaults later), and history is what is replayed."""
    for step in trace or ():
        detail = step.get("detail") if isinstance(step, dict) and step.get("step") == "inputs" else None
        if isinstance(detail, dict) and "overdue" in detail:
            return bool(detail["overdue"]), bool(detail.get("extended"))
    # Never computed (no trace): the loan as it stands is all there is to go on.
    return loan.status in NOT_CURRENT_LOAN_STATES, bool((loan.attributes or {}).get("extended"))


def stream_applications(session: Session, *, code: str, date_from: date, date_to: date, institutions: list[int],
                        chunk: int = 500, subject_id: int | None = None) -> Iterator[list[ApplicationItem]]:
    """The applications in range (or the one asked for) in approval order (then filing order), a chunk at a time."""
    statement, on = _history(code, date_from, date_to, institutions, subject_id)
    kinds = dict(session.execute(select(Institution.id, Institution.kind)).all())
    result = session.execute(statement.order_by(on, Application.id).execution_options(yield_per=chunk))
    for rows in result.partitions(chunk):
        loans = {loan.id: loan for loan in session.scalars(select(Loan).where(
            Loan.id.in_({row.loan_id for row in rows if row.loan_id is not None})))}
        firms = list(session.scalars(select(Enterprise).where(Enterprise.id.in_(
            {loan.enterprise_id for loan in loans.values() if loan.enterprise_id is not None}))))
        firm_facts = enterprise_facts_many(session, firms)
        items = []
        for row in rows:
            filed = (row.submitted_at or row.created_at).date()
            when = row.approved_at.date() if row.approved_at else filed
            items.append(ApplicationItem(
                application_id=row.id, institution_id=row.institution_id, enterprise_id=row.enterprise_id,
                kind=row.kind, fee_kind=row.fee_kind or "", status=row.status, budget_year=row.budget_year or when.year,
                on=when, period_end=row.period_end, applied_on=row.applied_on,
                facts=_facts(row, loans.get(row.loan_id), firm_facts), basis_fen=row.basis_fen,
                institution_kind=kinds.get(row.institution_id), rule_version_id=row.rule_version_id))
        yield items


def stream_shared_usage(session: Session, *, code: str, date_from: date, date_to: date,
                        chunk: int = 500) -> Iterator[list[SharedUsage]]:
    """Other subsidy programs' approvals in range, in approval order: the firm caps they share with this program."""
    approved = approvals("application")
    statement = (select(Application.id, Application.enterprise_id, Application.budget_year, Application.approved_fen,
                        approved.c.approved_at)
                 .join(approved, approved.c.claim_id == Application.id)
                 .where(Application.program_code != code, Application.kind.in_(SUBSIDY_KINDS),
                        Application.status.in_(COMMITTED_STATES), Application.enterprise_id.is_not(None),
                        approved.c.approved_at >= datetime.combine(date_from, datetime.min.time()),
                        approved.c.approved_at < datetime.combine(date_to + timedelta(days=1), datetime.min.time()))
                 .order_by(approved.c.approved_at, Application.id))
    result = session.execute(statement.execution_options(yield_per=chunk))
    for rows in result.partitions(chunk):
        yield [SharedUsage(application_id=row.id, enterprise_id=row.enterprise_id,
                           budget_year=row.budget_year or row.approved_at.year, on=row.approved_at.date(),
                           fixed_fen=row.approved_fen or 0) for row in rows]
