"""Use cases for enterprises and their dated list memberships, including bulk list imports."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from sqlalchemy import or_
from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, NotFound, Unprocessable
from claims.models import Enterprise, EnterpriseCategory, ListMembership, Loan
from claims.paging import Page, PageRequest, fetch_page
from claims.services.reference_lists import validity_reasons
from claims.tabular import TabularError, read_table
from workflows.identifiers import IdentifierError, validate_uscc

MEMBERSHIP_COLUMNS = {
    "uscc": {"uscc", "统一社会信用代码"},
    "category": {"category", "名单类别", "类别"},
    "valid_from": {"valid_from", "有效期起", "认定日期"},
    "valid_to": {"valid_to", "有效期止"},
    "certificate_no": {"certificate_no", "证书编号", "登记编号"},
    "source": {"source", "来源"},
}


def register_enterprise(session: Session, *, principal: Principal, uscc: str, name: str, size: str = "small",
                        annual_revenue_fen: int | None = None, district: str = "", industry: str = "") -> Enterprise:
    """Record an enterprise (admins and institutions registering a borrower)."""
    principal.require("admin", "institution")
    begin_write(session)
    if session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first():
        raise Conflict("An enterprise with this 统一社会信用代码 already exists.", code="enterprise_exists",
                       errors={"uscc": ["already registered"]})
    enterprise = Enterprise(uscc=uscc, name=name, size=size, annual_revenue_fen=annual_revenue_fen,
                            district=district, industry=industry)
    session.add(enterprise)
    session.flush()
    record_event(session, actor=principal.actor, entity="enterprise", entity_id=enterprise.id, action="created",
                 data={"uscc": uscc, "name": name})
    session.commit()
    return enterprise


def list_enterprises(session: Session, *, principal: Principal, page: PageRequest, q: str | None = None,
                     category: str | None = None, on: date | None = None) -> Page[Enterprise]:
    """Enterprises filtered by name or code fragment, and by list membership on a date."""
    statement = select(Enterprise).order_by(Enterprise.id)
    if q:
        like = f"%{q}%"
        statement = statement.where(or_(Enterprise.name.like(like), Enterprise.uscc.like(like)))
    if category:
        member = select(ListMembership.enterprise_id).where(ListMembership.category == category)
        if on:
            member = member.where(ListMembership.valid_from <= on,
                                  or_(ListMembership.valid_to.is_(None), ListMembership.valid_to >= on),
                                  or_(ListMembership.revoked_on.is_(None), ListMembership.revoked_on > on))
        statement = statement.where(Enterprise.id.in_(member))
    return fetch_page(session, statement, page)


def get_enterprise(session: Session, *, principal: Principal, enterprise_id: int) -> Enterprise:
    """One enterprise or 404."""
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(f"No enterprise {enterprise_id}.")
    return enterprise


# What every caller may see of any firm: who it is. Everything else (revenue, size, district, industry,
# list memberships) a bank sees only for the firms it lends to — the facts its own loans need.
IDENTITY = ("id", "uscc", "name")
FACTS = ("size", "annual_revenue_fen", "district", "industry")


def borrowers_of(session: Session, *, principal: Principal, enterprise_ids: list[int]) -> set[int]:
    """Which of these enterprises the calling institution has a loan with (all of them for staff)."""
    if not principal.is_institution:
        return set(enterprise_ids)
    return set(session.exec(select(Loan.enterprise_id).where(Loan.institution_id == principal.institution_id,
                                                             Loan.enterprise_id.in_(enterprise_ids)).distinct()))


def as_seen_by(session: Session, *, principal: Principal, enterprises: list[Enterprise],
               with_memberships: bool = False) -> list[dict]:
    """The enterprises as the caller may see them: identity always, facts only for its own borrowers."""
    lends_to = borrowers_of(session, principal=principal, enterprise_ids=[e.id for e in enterprises])
    seen = []
    for enterprise in enterprises:
        row = enterprise.model_dump()
        visible = enterprise.id in lends_to
        if not visible:
            row.update(dict.fromkeys(FACTS))
        row["facts_visible"] = visible
        if with_memberships:
            row["memberships"] = memberships_of(session, enterprise_id=enterprise.id) if visible else []
        seen.append(row)
    return seen


def memberships_of(session: Session, *, enterprise_id: int) -> list[ListMembership]:
    """All list memberships of an enterprise, oldest first."""
    return list(session.exec(select(ListMembership).where(ListMembership.enterprise_id == enterprise_id)
                             .order_by(ListMembership.valid_from, ListMembership.id)))


def list_categories(session: Session) -> list[EnterpriseCategory]:
    """The enterprise lists the platform knows."""
    return list(session.exec(select(EnterpriseCategory).order_by(EnterpriseCategory.code)))


@dataclass
class RowResult:
    """The outcome of one imported row."""

    row: int
    status: str
    reasons: list[dict] = field(default_factory=list)
    id: int | None = None


@dataclass
class ImportReport:
    """Per-row outcome of a bulk import."""

    accepted: int = 0
    rejected: int = 0
    rows: list[RowResult] = field(default_factory=list)


def _parse_date(value: str, key: str, reasons: list[dict]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        reasons.append({"code": "invalid_date", "field": key, "message": f"{key} must be YYYY-MM-DD, got {value!r}"})
        return None


def import_memberships(session: Session, *, principal: Principal, stream: BinaryIO, filename: str,
                       max_rows: int = 100_000) -> ImportReport:
    """Import list memberships from CSV or XLSX; good rows land, each bad row is reported with reasons."""
    principal.require("admin")
    begin_write(session)
    categories = {c.code: c for c in session.exec(select(EnterpriseCategory))}
    report = ImportReport()
    seen: set[tuple[int, str, date]] = set()
    try:
        rows = read_table(stream, filename, columns=MEMBERSHIP_COLUMNS, optional=("valid_to", "certificate_no",
                                                                                   "source"), max_rows=max_rows)
        for row in rows:
            reasons: list[dict] = []
            values = row.values
            enterprise = None
            try:
                uscc = validate_uscc(values["uscc"])
                enterprise = session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
                if enterprise is None:
                    reasons.append({"code": "enterprise_unknown", "field": "uscc",
                                    "message": f"no enterprise with 统一社会信用代码 {uscc}"})
            except IdentifierError as exc:
                reasons.append({"code": exc.code, "field": "uscc", "message": str(exc)})
            if values["category"] not in categories:
                reasons.append({"code": "category_unknown", "field": "category",
                                "message": f"unknown list {values['category']!r}"})
            valid_from = _parse_date(values["valid_from"], "valid_from", reasons)
            valid_to = _parse_date(values["valid_to"], "valid_to", reasons) if values["valid_to"] else None
            if valid_from and values["category"] in categories:
                # The list's validity rule: an entry of a 36-month list ends 36 months on at the latest.
                valid_to, problems = validity_reasons(categories[values["category"]], valid_from, valid_to)
                reasons.extend(problems)
            if not reasons:
                key = (enterprise.id, values["category"], valid_from)
                exists = session.exec(select(ListMembership.id).where(
                    ListMembership.enterprise_id == enterprise.id, ListMembership.category == values["category"],
                    ListMembership.valid_from == valid_from)).first()
                if key in seen or exists:
                    reasons.append({"code": "duplicate", "field": "valid_from",
                                    "message": "this membership is already recorded"})
                seen.add(key)
            if reasons:
                report.rejected += 1
                report.rows.append(RowResult(row=row.number, status="rejected", reasons=reasons))
                continue
            membership = ListMembership(enterprise_id=enterprise.id, category=values["category"],
                                        valid_from=valid_from, valid_to=valid_to,
                                        certificate_no=values["certificate_no"], source=values["source"])
            session.add(membership)
            session.flush()
            report.accepted += 1
            report.rows.append(RowResult(row=row.number, status="accepted", id=membership.id))
    except TabularError as exc:
        session.rollback()
        raise Unprocessable(exc.detail, code=exc.code, extra={"row": exc.row} if exc.row else None) from exc
    record_event(session, actor=principal.actor, entity="list_membership", entity_id=filename[:64],
                 action="imported", data={"accepted": report.accepted, "rejected": report.rejected})
    session.commit()
    return report
