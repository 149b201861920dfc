"""History as the simulator replays it: claims streamed in the order they were approved, with their stored facts,
and the cap usage claims and applications had before the replayed range."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import Text, cast, func, select
from sqlmodel import Session

from claims.models import Application, Claim, Decision, Enterprise, LedgerAccount, LedgerEntry, LedgerPosting, Loan
from claims.services.application_checks import COMMITTED_STATES, SUBSIDY_KINDS
from claims.services.facts import (
    enterprise_facts_many,
    institution_principal,
    loan_facts,
)
from workflows.facts import ClaimFacts, EnterpriseFacts
from workflows.simulation import Bases, HistoryItem

NO_FIRM = EnterpriseFacts()
# Claims never submitted (drafts, withdrawn before review) are not history anyone decided on.
REPLAYED_STATES = ("submitted", "first_review", "second_review", "third_review", "returned", "deferred",
                   "approved", "paid", "rejected")


def approvals(subject_type: str = "claim", subject_id: int | None = None):
    """When each claim (or application), or just the one asked for, was first approved: history's order."""
    statement = (select(Decision.subject_id.label("claim_id"), func.min(Decision.at).label("approved_at"))
                 .where(Decision.subject_type == subject_type, Decision.action == "approve"))
    if subject_id is not None:  # one item's traces: not every decision grouped to keep one
        statement = statement.where(Decision.subject_id == subject_id)
    return statement.group_by(Decision.subject_id).subquery()


# Only the facts the engine reads: not the stored trace and shares, whose JSON would cost more to read than
# the claim costs to price.
_FACTS = (Claim.id, Claim.loan_id, Claim.institution_id, Claim.status, Claim.rule_version_id, Claim.default_on,
          Claim.outstanding_principal_fen, Claim.unpaid_interest_fen, Claim.interest_days, Claim.recovered_before_fen,
          Claim.classification, Claim.lawsuit_accepted_on, Claim.submitted_at, Claim.created_at, Claim.budget_year,
          Claim.requested_fen)


def history_select(model, columns, subject_type: str, *, code: str, date_from: date, date_to: date,
                   institutions: list[int], subject_id: int | None = None):
    """The replayed rows of a claim or application model in range (or just one of them), and the moment that orders them.

    A row is dated by its first approval, else its submission, else its creation.
    """
    approved = approvals(subject_type, subject_id)
    on = func.coalesce(approved.c.approved_at, model.submitted_at, model.created_at)
    statement = (select(*columns, approved.c.approved_at).outerjoin(approved, approved.c.claim_id == model.id)
                 .where(model.program_code == code, model.status.in_(REPLAYED_STATES),
                        on >= datetime.combine(date_from, datetime.min.time()),
                        on < datetime.combine(date_to + timedelta(days=1), datetime.min.time())))
    if institutions:
        statement = statement.where(model.institution_id.in_(institutions))
    if subject_id is not None:
        statement = statement.where(model.id == subject_id)
    return statement, on


def count_rows(session: Session, statement) -> int:
    """How many rows a history statement yields (what the replay will price)."""
    return int(session.execute(select(func.count()).select_from(statement.subquery())).scalar_one())


# The loan's facts come in the same rows (no name is both a claim's and a loan's here), so a row serves as
# both the claim and the loan, and the replay reads no loans chunk by chunk.
# The attributes come as their JSON text: loans share a few distinct ones, each parsed once (see _attributes).
_LOAN_FACTS = (Loan.principal_fen, Loan.disbursed_on, Loan.maturity_on, Loan.security_type, Loan.unsecured_share,
               Loan.first_loan, Loan.policy_tool, cast(Loan.attributes, Text).label("attributes_json"),
               Loan.enterprise_id, Loan.individual_id)


def _history(code: str, date_from: date, date_to: date, institutions: list[int], subject_id: int | None = None):
    statement, on = history_select(Claim, _FACTS + _LOAN_FACTS, "claim", code=code, date_from=date_from,
                                   date_to=date_to, institutions=institutions, subject_id=subject_id)
    return statement.join(Loan, Loan.id == Claim.loan_id), on


def count_history(session: Session, *, code: str, date_from: date, date_to: date, institutions: list[int]) -> int:
    """How many claims the replay will price."""
    return count_rows(session, _history(code, date_from, date_to, institutions)[0])


def _item(claim, approved_at: datetime | None, loan: Loan, facts) -> HistoryItem:
    filed = (claim.submitted_at or claim.created_at).date()
    on = approved_at.date() if approved_at else filed
    owner = ("enterprise", loan.enterprise_id) if loan.enterprise_id is not None else ("individual", loan.individual_id)
    return HistoryItem(
        claim_id=claim.id, institution_id=claim.institution_id, owner=owner, loan=facts, status=claim.status,
        claim=ClaimFacts(default_on=claim.default_on, outstanding_principal_fen=claim.outstanding_principal_fen,
                         unpaid_interest_fen=claim.unpaid_interest_fen, interest_days=claim.interest_days,
                         recovered_before_claim_fen=claim.recovered_before_fen, claimed_on=filed,
                         classification=claim.classification or None, lawsuit_accepted_on=claim.lawsuit_accepted_on),
        budget_year=claim.budget_year or on.year, on=on, requested_fen=claim.requested_fen,
        rule_version_id=claim.rule_version_id)


class FirmFacts:
    """Enterprises' facts read once per replay, not once per chunk (a firm has many claims), within a bound."""

    LIMIT = 50_000  # firms kept; past it the cache starts again, so memory stays flat however long the history

    def __init__(self, session: Session) -> None:
        self.session, self.known = session, {}

    def of(self, ids: set) -> dict:
        """The facts of these enterprises, by id (reading only the ones not yet known)."""
        missing = ids - self.known.keys()
        if missing:
            if len(self.known) + len(missing) > self.LIMIT:
                self.known = {}
                missing = ids
            firms = list(self.session.scalars(select(Enterprise).where(Enterprise.id.in_(missing))))
            self.known.update(enterprise_facts_many(self.session, firms))
        return self.known


def stream_history(session: Session, *, code: str, date_from: date, date_to: date, institutions: list[int],
                   chunk: int = 500, subject_id: int | None = None) -> Iterator[Iterator[HistoryItem]]:
    """The claims in range (or the one asked for), in approval order (then filing order), a chunk at a time.

    Rows are read through a streaming cursor, so memory holds one chunk whatever the size of the history.
    A chunk's items are made as they are taken: items the replay has done with are freed at once, and
    none lives long enough for the garbage collector to promote and walk it again and again.
    """
    statement, on = _history(code, date_from, date_to, institutions, subject_id)
    result = session.execute(statement.order_by(on, Claim.id).execution_options(yield_per=chunk))
    firms, parsed = FirmFacts(session), {}
    for rows in result.partitions(chunk):
        facts = firms.of({row.enterprise_id for row in rows if row.enterprise_id is not None})
        if len(parsed) > 10_000:  # kept small: distinct attributes are few, and memory stays flat if not
            parsed.clear()
        yield (_item(row, row.approved_at, row, loan_facts(row, facts.get(row.enterprise_id, NO_FIRM),
                                                           _attributes(parsed, row.attributes_json)))
               for row in rows)


def _attributes(parsed: dict, text: str | None) -> dict:
    # loan_facts copies what it is given, so one parsed dict can serve every loan with the same text.
    found = parsed.get(text)
    if found is None:
        found = parsed[text] = (json.loads(text) if text else None) or {}  # SQL NULL or JSON null: none
    return found


def _opening(session: Session, code: str, date_from: date):
    """What claims approved before the range had used of each cap level (read once per level and key)."""
    approved = approvals()
    before = (select(func.coalesce(func.sum(Claim.approved_fen), 0)).select_from(Claim)
              .join(Loan, Loan.id == Claim.loan_id).join(approved, approved.c.claim_id == Claim.id)
              .where(Claim.program_code == code, Claim.status.in_(("approved", "paid")),
                     approved.c.approved_at < datetime.combine(date_from, datetime.min.time())))
    if not session.execute(before).scalar_one():
        return lambda kind, key: 0  # nothing was approved earlier: every level opens at zero, no queries

    def owner(kind: str, owner_id):
        column = Loan.enterprise_id if kind == "enterprise" else Loan.individual_id
        return column.is_(None) if owner_id is None else column == owner_id

    def used(kind: str, key: tuple) -> int:
        if kind == "enterprise_year":
            where = (owner(key[0], key[1]), Claim.budget_year == key[2])
        elif kind == "enterprise_lifetime":
            where = (owner(key[0], key[1]),)
        elif kind == "institution_year":
            where = (Claim.institution_id == key[0], Claim.budget_year == key[1])
        elif kind == "cohort":
            where = (Claim.institution_id == key[0], Loan.disbursed_on >= date(key[1], 1, 1),
                     Loan.disbursed_on <= date(key[1], 12, 31))
        elif kind == "budget":
            where = (Claim.budget_year == key[0],)
        else:
            return 0  # an application's level (_application_opening's)
        return int(session.execute(before.where(*where)).scalar_one())

    return used


def _application_opening(session: Session, code: str, date_from: date):
    """What applications approved before the range had used of each application cap level.

    The firm's caps over all subsidies count every subsidy program's approvals, as the live check does;
    the others count this program's.
    """
    approved = approvals("application")
    before = (select(func.coalesce(func.sum(Application.approved_fen), 0))
              .join(approved, approved.c.claim_id == Application.id)
              .where(Application.status.in_(COMMITTED_STATES),
                     approved.c.approved_at < datetime.combine(date_from, datetime.min.time())))
    if not session.execute(before).scalar_one():
        return lambda kind, key: 0
    ours, subsidies = Application.program_code == code, Application.kind.in_(SUBSIDY_KINDS)

    def used(kind: str, key: tuple) -> int:
        if kind == "subsidy_program_year":
            firm, fee_kind, year = key
            fee = Application.fee_kind == fee_kind if fee_kind else func.coalesce(Application.fee_kind, "") == ""
            where = (ours, subsidies, Application.enterprise_id == firm, fee, Application.budget_year == year)
        elif kind == "firm_year":
            where = (subsidies, Application.enterprise_id == key[0], Application.budget_year == key[1])
        elif kind == "firm_lifetime":
            where = (subsidies, Application.enterprise_id == key[0])
        elif kind == "reward_year":
            where = (ours, Application.kind == "reward", Application.institution_id == key[0],
                     Application.budget_year == key[1])
        elif kind == "budget":
            where = (ours, Application.budget_year == key[0])
        else:
            return 0  # a claim's level (_opening's)
        return int(session.execute(before.where(*where)).scalar_one())

    return used


def bases_of(session: Session, *, code: str, date_from: date) -> Bases:
    """The proportional caps' bases, read from the loans once per institution and year and kept for the replay.

    With them, what was approved before the range: the replay starts from the cap usage history had then.
    """
    cache: dict[tuple[int, int], tuple[int, int]] = {}

    def principal(institution_id: int, year: int) -> tuple[int, int]:
        if (institution_id, year) not in cache:
            cache[(institution_id, year)] = institution_principal(session, institution_id=institution_id,
                                                                  program_code=code, year=year)
        return cache[(institution_id, year)]

    adjusted = _budget_adjustments(session, code)
    claims, applications = _opening(session, code, date_from), _application_opening(session, code, date_from)
    # A level is a claim's or an application's (each answers 0 for the other's); a program's budget is both's.
    return Bases(registered=lambda i, y: principal(i, y)[0], prior_balance=lambda i, y: principal(i, y)[1],
                 opening=lambda kind, key: claims(kind, key) + applications(kind, key),
                 budget_adjustment=lambda y: adjusted.get(y, 0))


def _budget_adjustments(session: Session, code: str) -> dict[int, int]:
    """The bureau's adjustments of each year's appropriation (net, in fen), from the ledger's adjust postings."""
    rows = session.execute(
        select(LedgerAccount.year, func.sum(LedgerEntry.amount_fen))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
        .where(LedgerPosting.kind == "adjust", LedgerAccount.program_code == code, LedgerAccount.kind == "available")
        .group_by(LedgerAccount.year))
    return {int(year): int(total) for year, total in rows}

