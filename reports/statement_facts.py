"""What the ledger says happened in a program during a period, read into plain records (no ORM objects out).

Claims paid come from `pay` postings on the program's paid account whose subject is a claim; subsidies
and rewards from `pay` postings whose subject is an application; recoveries
owed back from `recovery` postings on the institution's receivable account. Amounts are the ledger's
entries, so whatever a statement adds up reconciles to the ledger to the fen.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from claims.models import (
    Application,
    Claim,
    Decision,
    Enterprise,
    Individual,
    Institution,
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    Loan,
    Recovery,
)
from reports.cjk_text import format_amount

CAP_LABELS = {
    "per_loan": "单笔上限", "per_enterprise_year": "企业年度上限", "per_institution_year": "机构年度上限",
    "per_institution_year_share_of_registered": "机构年度备案额比例上限", "budget": "年度预算余额",
    "requested": "机构申请金额",
}


@dataclass(frozen=True)
class Movement:
    """One item of a period: a claim paid, a subsidy or reward paid, or a recovery share owed back."""

    kind: str  # "claim", "subsidy", "reward" or "recovery"
    institution_id: int
    at: datetime
    posting_id: int
    reference: str
    name: str
    amounts_fen: tuple[int, ...]  # the section's columns; the last one is what counts toward totals
    trace: str
    contract_no: str = ""
    voucher_no: str = ""

    @property
    def signed_fen(self) -> int:
        """What the item adds to the institution's position: paid out is +, owed back is -."""
        return -self.amounts_fen[-1] if self.kind == "recovery" else self.amounts_fen[-1]


@dataclass(frozen=True)
class InstitutionInfo:
    """The addressee of a statement."""

    id: int
    code: str
    name: str
    uscc: str


def _paid_postings(program_code: str):
    return (select(LedgerPosting, LedgerEntry.amount_fen)
            .join(LedgerEntry, LedgerEntry.posting_id == LedgerPosting.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerPosting.kind == "pay", LedgerAccount.kind == "paid",
                   LedgerAccount.program_code == program_code))


def _recovery_postings(program_code: str):
    return (select(LedgerPosting, LedgerEntry.amount_fen, LedgerAccount.institution_id)
            .join(LedgerEntry, LedgerEntry.posting_id == LedgerPosting.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerPosting.kind == "recovery", LedgerPosting.subject_type == "recovery",
                   LedgerAccount.kind == "receivable", LedgerAccount.program_code == program_code))


def opening_positions(session: Session, *, program_code: str, before: datetime) -> dict[int, int]:
    """Each institution's cumulative position in the program before a moment: paid to it minus owed back."""
    positions: dict[int, int] = {}

    def add(rows) -> None:
        for institution_id, total in rows:
            positions[institution_id] = positions.get(institution_id, 0) + int(total)

    paid = _paid_postings(program_code).where(LedgerPosting.at < before).subquery()
    add(session.exec(select(Claim.institution_id, func.sum(paid.c.amount_fen))
                     .join(paid, (paid.c.subject_id == Claim.id) & (paid.c.subject_type == "claim"))
                     .group_by(Claim.institution_id)).all())
    add(session.exec(select(Application.institution_id, func.sum(paid.c.amount_fen))
                     .join(paid, (paid.c.subject_id == Application.id) & (paid.c.subject_type == "application"))
                     .group_by(Application.institution_id)).all())
    owed = _recovery_postings(program_code).where(LedgerPosting.at < before).subquery()
    add((institution_id, -total) for institution_id, total in session.exec(
        select(owed.c.institution_id, func.sum(owed.c.amount_fen)).group_by(owed.c.institution_id)).all())
    return positions


def _with_borrower(query):
    """The query with the loan's borrower name (a firm's, else the person's) joined in, rather than looked up by id."""
    return (query.add_columns(Loan.contract_no, Enterprise.name.label("firm"), Individual.name.label("person"))
            .join(Enterprise, Enterprise.id == Loan.enterprise_id, isouter=True)
            .join(Individual, Individual.id == Loan.individual_id, isouter=True))


def _borrower(row) -> str:
    return row.firm or f"{row.person or ''}（个人）"


def _amount(step: dict) -> str:
    # Amounts print one way everywhere (columns, totals, notes): from the step's fen when it has them.
    fen = step.get("fen")
    return format_amount(fen) if type(fen) is int else str(step.get("value"))


def claim_trace_summary(claim) -> str:
    """The key steps of a claim's trace in one printable line: rule, loss, ratio, caps that bound, amount, reduction.

    claim is anything with the claim's trace, ratio, computed_fen and approved_fen (a Claim or a row), and
    optionally the approver's reduction_reason.
    """
    parts = []
    for step in claim.trace or []:
        name, value, detail = step.get("step", ""), step.get("value"), step.get("detail")
        if name == "rule":
            parts.append(f"规则{value}")
        elif name == "loss_base":
            parts.append(f"损失基数{_amount(step)}")
        elif name == "base_ratio" and value is not None:
            parts.append(f"基础比例{value}")
        elif name.startswith("uplift:") and isinstance(detail, dict) and detail.get("applies"):
            parts.append(f"{detail.get('label') or name[7:]}{detail.get('combine', '')}")
        elif name == "ceiling" and isinstance(detail, dict) and detail.get("bound"):
            parts.append(f"比例封顶{value}")
        elif name == "gross":
            parts.append(f"毛额{_amount(step)}")
        elif name.startswith("cap:") and (name == "cap:requested" or
                                          (isinstance(detail, dict) and detail.get("bound"))):
            parts.append(f"{CAP_LABELS.get(name[4:], name[4:])}{_amount(step)}生效")
    parts.append(f"补偿比例{claim.ratio}")
    if claim.approved_fen is not None and claim.approved_fen != claim.computed_fen:
        reason = getattr(claim, "reduction_reason", None)
        parts.append(f"核减至{format_amount(claim.approved_fen)}" + (f"（核减理由：{reason}）" if reason else ""))
    return "；".join(parts)


SCAN_BATCH = 2_000  # rows fetched per round trip; the scan never holds more than this many in the client


def _ordered(query, institution_column, institution_id: int | None):
    """The query streamed (server-side cursor on PostgreSQL) in (institution, posting time, posting id) order."""
    # Ordered by id, not code: integers sort alike in every database collation and in Python, which the merge needs.
    if institution_id is not None:
        query = query.where(institution_column == institution_id)
    return (query.order_by(institution_column, LedgerPosting.at, LedgerPosting.id)
            .execution_options(yield_per=SCAN_BATCH))


def _stream(session: Session, query):
    # Core rows, not the ORM's: a column-only select needs no identity map, and the ORM's row processing was
    # a third of the scan.
    return session.connection().execute(query)


def _claim_movements(session: Session, program_code: str, start: datetime, end: datetime,
                     institution_id: int | None) -> Iterator[Movement]:
    # Only the columns a line prints: whole Claim and Loan objects would decode every JSON column
    # (shares, attributes) and build two ORM objects per line, most of the assembly's time.
    reason = (select(Decision.reason).where(Decision.subject_type == "claim", Decision.subject_id == Claim.id,
                                            Decision.action == "approve")
              .order_by(Decision.id.desc()).limit(1).scalar_subquery())
    claims = (select(LedgerPosting.id, LedgerPosting.at, LedgerPosting.voucher_no, LedgerEntry.amount_fen,
                     Claim.id.label("claim_id"), Claim.institution_id, Claim.trace, Claim.ratio, Claim.computed_fen,
                     Claim.approved_fen, reason.label("reduction_reason"))
              .join(LedgerEntry, LedgerEntry.posting_id == LedgerPosting.id)
              .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
              .join(Claim, (Claim.id == LedgerPosting.subject_id) & (LedgerPosting.subject_type == "claim"))
              .join(Loan, Loan.id == Claim.loan_id)
              .where(LedgerPosting.kind == "pay", LedgerAccount.kind == "paid",
                     LedgerAccount.program_code == program_code, LedgerPosting.at >= start, LedgerPosting.at < end))
    for row in _stream(session, _ordered(_with_borrower(claims), Claim.institution_id, institution_id)):
        yield Movement(
            "claim", row.institution_id, row.at, row.id, f"CL-{row.claim_id:06d}", _borrower(row),
            (row.approved_fen or 0, int(row.amount_fen)), claim_trace_summary(row),
            contract_no=row.contract_no, voucher_no=row.voucher_no or "")


def _recovery_movements(session: Session, program_code: str, start: datetime, end: datetime,
                        institution_id: int | None) -> Iterator[Movement]:
    recoveries = (select(LedgerPosting.id, LedgerPosting.at, LedgerEntry.amount_fen, LedgerAccount.institution_id,
                         Recovery.id.label("recovery_id"), Recovery.amount_fen.label("recovered_fen"),
                         Recovery.costs_fen, Recovery.recovered_on, Recovery.claim_id)
                  .join(LedgerEntry, LedgerEntry.posting_id == LedgerPosting.id)
                  .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                  .join(Recovery, Recovery.id == LedgerPosting.subject_id)
                  .join(Claim, Claim.id == Recovery.claim_id).join(Loan, Loan.id == Claim.loan_id)
                  .where(LedgerPosting.kind == "recovery", LedgerPosting.subject_type == "recovery",
                         LedgerAccount.kind == "receivable", LedgerAccount.program_code == program_code,
                         LedgerPosting.at >= start, LedgerPosting.at < end))
    for row in _stream(session, _ordered(_with_borrower(recoveries), LedgerAccount.institution_id, institution_id)):
        net = row.recovered_fen - row.costs_fen
        yield Movement(
            "recovery", row.institution_id, row.at, row.id, f"RC-{row.recovery_id:06d}", _borrower(row),
            (row.recovered_fen, int(row.amount_fen)),
            f"代偿CL-{row.claim_id:06d}；{row.recovered_on:%Y-%m-%d}追回{format_amount(row.recovered_fen)}"
            f"，扣除费用{format_amount(row.costs_fen)}后{format_amount(net)}按实际补偿比例退回",
            contract_no=row.contract_no)


def _application_movements(session: Session, program_code: str, program_kind: str, start: datetime,
                           end: datetime, institution_id: int | None) -> Iterator[Movement]:
    apps = (select(LedgerPosting.id, LedgerPosting.at, LedgerPosting.voucher_no, LedgerEntry.amount_fen,
                   Application.id.label("app_id"),
                   Application.institution_id, Application.kind, Application.period_start, Application.period_end,
                   Application.basis_fen, Application.trace, Enterprise.name.label("firm"))
            .join(LedgerEntry, LedgerEntry.posting_id == LedgerPosting.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .join(Application, (Application.id == LedgerPosting.subject_id)
                  & (LedgerPosting.subject_type == "application"))
            .join(Enterprise, Enterprise.id == Application.enterprise_id, isouter=True)
            .where(LedgerPosting.kind == "pay", LedgerAccount.kind == "paid",
                   LedgerAccount.program_code == program_code, LedgerPosting.at >= start, LedgerPosting.at < end))
    for row in _stream(session, _ordered(apps, Application.institution_id, institution_id)):
        section = "reward" if (row.kind or program_kind) == "reward" else "subsidy"
        # A reward is the institution's own: it has no firm, so the line names the program's purpose instead.
        name = row.firm or ("机构奖励" if section == "reward" else "—")
        yield Movement(section, row.institution_id, row.at, row.id, f"AP-{row.app_id:06d}", name,
                                       (int(row.amount_fen),), application_trace_summary(row),
                                       voucher_no=row.voucher_no or "")


def iter_movements(session: Session, *, program_code: str, program_kind: str, start: datetime, end: datetime,
                   institution_id: int | None = None) -> Iterator[Movement]:
    """Every item of the program in [start, end), by institution id, then oldest posting first.

    One ordered scan: the three kinds of posting are each streamed in that order and merged, so the
    caller sees one institution's items together and never more than a fetch batch is held at once.
    """
    return heapq.merge(
        _claim_movements(session, program_code, start, end, institution_id),
        _recovery_movements(session, program_code, start, end, institution_id),
        _application_movements(session, program_code, program_kind, start, end, institution_id),
        key=lambda m: (m.institution_id, m.at, m.posting_id))


def application_trace_summary(application) -> str:
    """The key steps of a subsidy or reward computation in one printable line."""
    parts = [f"期间{application.period_start:%Y-%m-%d}至{application.period_end:%Y-%m-%d}",
             f"计算基数{format_amount(application.basis_fen)}"]
    for step in application.trace or []:
        name, value, detail = step.get("step", ""), step.get("value"), step.get("detail")
        if name == "rule":
            parts.append(f"规则{value}")
        elif name in ("rate", "share"):
            parts.append(f"{'补贴利率' if name == 'rate' else '补贴比例'}{value}")
        elif name.startswith("tier:") and isinstance(detail, dict) and detail.get("applies"):
            parts.append(f"{detail.get('label') or name[5:]}{value}")
        elif name.startswith("cap:") and isinstance(detail, dict) and detail.get("bound"):
            parts.append(f"{CAP_LABELS.get(name[4:], name[4:])}{_amount(step)}生效")
    return "；".join(parts)


def budget_used(session: Session, *, program_code: str, year: int, before: datetime) -> tuple[int, int]:
    """(used, appropriated) for the program-year as the ledger stood before a moment; used = paid + reserved."""
    rows = session.exec(
        select(LedgerAccount.kind, func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
        .where(LedgerAccount.program_code == program_code, LedgerAccount.year == year, LedgerPosting.at < before)
        .group_by(LedgerAccount.kind)).all()
    kinds = {kind: int(total) for kind, total in rows}
    return kinds.get("paid", 0) + kinds.get("reserved", 0), -kinds.get("appropriation", 0)


def all_institutions(session: Session) -> dict[int, InstitutionInfo]:
    """Every institution as a plain record, by id (a city's few hundred: what a statement run addresses)."""
    rows = session.exec(select(Institution.id, Institution.code, Institution.name, Institution.uscc)).all()
    return {row.id: InstitutionInfo(row.id, row.code, row.name, row.uscc) for row in rows}
