"""Use cases for settlement statements: list, get, download, and the bank's confirmation or dispute, in scope."""
from __future__ import annotations

from datetime import date
from typing import BinaryIO

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Forbidden, NotFound, Unprocessable
from claims.models import Statement
from claims.models.base import utcnow
from claims.paging import Page, PageRequest, fetch_page
from claims.storage import Store, StoreMissing, fetch, statement_key

VISIBLE_STATES = ("done", "superseded")


def scoped_statements(principal: Principal):
    """Statements the caller may see: an institution its own issued ones; staff every issued one."""
    statement = select(Statement).where(Statement.status.in_(VISIBLE_STATES))
    if principal.is_institution:
        return statement.where(Statement.institution_id == principal.institution_id)
    principal.require("reviewer", "approver", "payer", "admin", "auditor")
    return statement


def list_statements(session: Session, *, principal: Principal, page: PageRequest, program: str | None = None,
                    institution_id: int | None = None, period_start: date | None = None, status: str | None = None,
                    summary: bool | None = None) -> Page[Statement]:
    """Issued statements visible to the caller, newest period first, filtered."""
    statement = scoped_statements(principal)
    if program:
        statement = statement.where(Statement.program_code == program)
    if institution_id is not None:
        statement = statement.where(Statement.institution_id == institution_id)
    if period_start is not None:
        statement = statement.where(Statement.period_start == period_start)
    if status:
        statement = statement.where(Statement.status == status)
    if summary is not None:
        statement = statement.where((Statement.scope == "program") if summary else (Statement.scope != "program"))
    order = (Statement.period_start.desc(), Statement.program_code, Statement.scope, Statement.version.desc())
    return fetch_page(session, statement.order_by(*order), page)


def get_statement(session: Session, *, principal: Principal, statement_id: int) -> Statement:
    """One issued statement, or 404 when it does not exist or is another institution's."""
    found = session.exec(scoped_statements(principal).where(Statement.id == statement_id)).first()
    if found is None:
        raise NotFound(f"No statement {statement_id}.")
    return found


def statement_file(session: Session, *, principal: Principal, statement_id: int,
                   store: Store) -> tuple[Statement, BinaryIO]:
    """The statement and its PDF, checked against the recorded SHA-256; 409 when missing from storage or altered."""
    found = get_statement(session, principal=principal, statement_id=statement_id)
    try:
        if not found.path:
            raise StoreMissing("no file recorded")
        return found, fetch(store, statement_key(found.path), sha256=found.sha256)
    except StoreMissing:
        raise Conflict(f"The PDF of statement {found.number} is missing from storage.",
                       code="statement_file_missing") from None


BANK_RESPONSES = {"confirm": "confirmed", "dispute": "disputed"}


def respond_to_statement(session: Session, *, principal: Principal, statement_id: int, action: str,
                         reason: str) -> Statement:
    """The institution confirms its current statement or disputes it with a reason; audited, shown to the bureau."""
    if not principal.is_institution:
        raise Forbidden("Only the institution a statement is addressed to confirms or disputes it.",
                        code="institution_only")
    if action == "dispute" and not reason.strip():
        raise Unprocessable("A dispute needs a reason.", code="reason_required", errors={"reason": ["required"]})
    begin_write(session)
    found = get_statement(session, principal=principal, statement_id=statement_id)
    if found.scope == "program" or found.status != "done":
        raise Conflict(f"Statement {found.number} is {found.status}; respond to the current version.",
                       code="statement_not_current")
    found.bank_response, found.bank_reason = BANK_RESPONSES[action], reason.strip()
    found.bank_responded_by, found.bank_responded_at = principal.actor, utcnow()
    session.add(found)
    record_event(session, actor=principal.actor, entity="statement", entity_id=found.id, action=action,
                 data={"number": found.number, "reason": found.bank_reason, "sha256": found.sha256})
    session.commit()
    return found
