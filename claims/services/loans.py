"""Use cases for loans: registering one, listing, and status reports from the bank (bulk files: loan_import)."""
from __future__ import annotations

from datetime import date, datetime
from typing import BinaryIO

from sqlalchemy import func
from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Forbidden, NotFound, Unprocessable
from claims.models import Enterprise, Loan
from claims.paging import Page, PageRequest, fetch_page
from claims.services.loan_registrar import LOAN_COLUMNS, LoanInput, LoanRejected, Registrar
from claims.storage import Store, StoreMissing, bulk_report_key, fetch

__all__ = ["LoanInput", "LoanRejected", "REPORTABLE", "bulk_report", "get_loan", "list_loans", "register_loan",
           "report_loan_status", "require_institution", "scoped_loans"]


def require_institution(principal: Principal) -> None:
    if not principal.is_institution:
        raise Forbidden("Only an institution registers loans, with its own API key.", code="institution_only")


def register_loan(session: Session, *, principal: Principal, registry, item: LoanInput, today: date) -> Loan:
    """Register one loan into a program after checking every eligibility rule."""
    require_institution(principal)
    begin_write(session)
    registrar = Registrar(session, registry, principal, today)
    row, reasons = registrar.check(item)
    if reasons:
        if [r["code"] for r in reasons] == ["duplicate_contract"]:
            raise Conflict(reasons[0]["message"], code="duplicate_contract", errors={"contract_no": [reasons[0]["message"]]})
        raise LoanRejected("The loan does not meet the program's registration rules.", extra={"reasons": reasons},
                           errors=_errors_by_field(reasons))
    loan = Loan(**dict(zip(LOAN_COLUMNS, row, strict=True)))
    session.add(loan)
    session.flush()
    record_event(session, actor=principal.actor, entity="loan", entity_id=loan.id, action="registered",
                 data={"program": loan.program_code, "contract_no": loan.contract_no,
                       "principal_fen": loan.principal_fen})
    session.commit()
    return loan


def _errors_by_field(reasons: list[dict]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for reason in reasons:
        errors.setdefault(reason.get("field") or "loan", []).append(f"{reason['message']} [{reason['code']}]")
    return errors


def bulk_report(*, principal: Principal, store: Store, report_id: str) -> BinaryIO:
    """The CSV report of a bulk registration, only for the institution that uploaded it."""
    require_institution(principal)
    if not report_id.isalnum():
        raise NotFound("No such report.")
    try:
        return fetch(store, bulk_report_key(principal.institution_id, report_id))
    except StoreMissing:
        raise NotFound("No such report.") from None


def scoped_loans(principal: Principal):
    """The select of loans the caller may see: its own for an institution, all for staff."""
    statement = select(Loan)
    if principal.is_institution:
        statement = statement.where(Loan.institution_id == principal.institution_id)
    else:
        principal.require("reviewer", "approver", "payer", "admin", "auditor")
    return statement


def get_loan(session: Session, *, principal: Principal, loan_id: int) -> Loan:
    """One loan, or 404 when it does not exist or belongs to another institution."""
    loan = session.exec(scoped_loans(principal).where(Loan.id == loan_id)).first()
    if loan is None:
        raise NotFound(f"No loan {loan_id}.")
    return loan


def list_loans(session: Session, *, principal: Principal, page: PageRequest, program: str | None = None,
               status: str | None = None, contract_no: str | None = None, enterprise_uscc: str | None = None,
               disbursed_from: date | None = None, disbursed_to: date | None = None,
               updated_since: datetime | None = None) -> Page[Loan]:
    """Loans visible to the caller, filtered, newest first."""
    statement = scoped_loans(principal).order_by(Loan.id.desc())
    if program:
        statement = statement.where(Loan.program_code == program)
    if status:
        statement = statement.where(Loan.status == status)
    if contract_no:
        statement = statement.where(Loan.contract_no == contract_no)
    if enterprise_uscc:
        statement = statement.where(Loan.enterprise_id.in_(select(Enterprise.id).where(Enterprise.uscc == enterprise_uscc)))
    if disbursed_from:
        statement = statement.where(Loan.disbursed_on >= disbursed_from)
    if disbursed_to:
        statement = statement.where(Loan.disbursed_on <= disbursed_to)
    if updated_since is not None:
        statement = statement.where(func.coalesce(Loan.updated_at, Loan.created_at) >= updated_since)
    return fetch_page(session, statement, page)


REPORTABLE = {"current", "overdue", "non_performing", "repaid"}


def report_loan_status(session: Session, *, principal: Principal, loan_id: int, status: str, as_of: date,
                       days_overdue: int = 0) -> Loan:
    """The bank reports a loan repaid, current, overdue or non-performing."""
    require_institution(principal)
    begin_write(session)
    loan = get_loan(session, principal=principal, loan_id=loan_id)
    if status not in REPORTABLE:
        raise Unprocessable(f"status must be one of {', '.join(sorted(REPORTABLE))}.", code="invalid_status")
    if loan.status in {"compensated", "closed", "repaid"}:
        raise Conflict(f"Loan {loan.id} is {loan.status}; its status can no longer change.", code="loan_closed")
    before = loan.status
    loan.status, loan.days_overdue, loan.status_on = status, days_overdue, as_of
    session.add(loan)
    record_event(session, actor=principal.actor, entity="loan", entity_id=loan.id, action=f"reported_{status}",
                 data={"from": before, "days_overdue": days_overdue, "as_of": as_of.isoformat()})
    session.commit()
    return loan
