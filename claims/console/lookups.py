"""Names and facts the console shows beside an item: its bank, its firm, its loan, list memberships."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from claims.models import Enterprise, EnterpriseCategory, Institution, Loan
from claims.services import enterprises, programs


def names(db, items) -> dict[str, dict[int, str]]:
    """Institution, enterprise and program names for a page of claims or applications, in three queries."""
    institution_ids = {i.institution_id for i in items}
    loan_ids = {i.loan_id for i in items if getattr(i, "loan_id", None)}
    loan_firms = dict(db.exec(select(Loan.id, Loan.enterprise_id).where(Loan.id.in_(loan_ids))).all()) if loan_ids else {}
    firm_of = {i.id: (getattr(i, "enterprise_id", None) or loan_firms.get(getattr(i, "loan_id", None))) for i in items}
    firm_ids = {f for f in firm_of.values() if f}
    banks = dict(db.exec(select(Institution.id, Institution.name).where(Institution.id.in_(institution_ids))).all()) \
        if institution_ids else {}
    firms = dict(db.exec(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(firm_ids))).all()) \
        if firm_ids else {}
    return {"bank": banks, "firm": {item_id: firms.get(f, "—") for item_id, f in firm_of.items()},
            "program": {p.code: p.name for p in programs.list_programs(db)}}


def category_names(db) -> dict[str, str]:
    """The enterprise lists by code."""
    return dict(db.exec(select(EnterpriseCategory.code, EnterpriseCategory.name)).all())


@dataclass(frozen=True)
class Membership:
    """A list membership and whether it held on the date the rule looks at."""

    category: str
    valid_from: date
    valid_to: date | None
    certificate_no: str
    source: str
    held: bool


def memberships_on(db, enterprise_id: int | None, on: date | None) -> list[Membership]:
    """An enterprise's list memberships, each marked by whether it held on the given date."""
    if not enterprise_id:
        return []
    result = []
    for m in enterprises.memberships_of(db, enterprise_id=enterprise_id):
        held = on is not None and m.valid_from <= on and (m.valid_to is None or on <= m.valid_to)
        result.append(Membership(m.category, m.valid_from, m.valid_to, m.certificate_no, m.source, held))
    return result


def loan_and_firm(db, loan_id: int | None, enterprise_id: int | None = None):
    """(loan, enterprise, institution that lent) for an item; any may be None."""
    loan = db.get(Loan, loan_id) if loan_id else None
    firm_id = enterprise_id or (loan.enterprise_id if loan else None)
    firm = db.get(Enterprise, firm_id) if firm_id else None
    return loan, firm


def institution(db, institution_id: int) -> Institution | None:
    """An institution by id."""
    return db.get(Institution, institution_id)




def banks(db) -> list[Institution]:
    """Every institution, by code, for the queue's bank filter."""
    return list(db.exec(select(Institution).order_by(Institution.code)))


def staff_names(db, user_ids) -> dict[int, str]:
    """Display names of staff users by id."""
    from claims.models import User

    ids = {i for i in user_ids if i}
    return dict(db.exec(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
