"""Open enterprise lists: declared by a program file or an admin; entries added, ended and revoked with history."""
from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, NotFound, Unprocessable
from claims.models import Enterprise, EnterpriseCategory, ListMembership
from workflows.calendar import add_months


def declare_lists(session: Session, *, rule) -> None:
    """Record the lists a live program version declares; a list another source declared differently is refused."""
    for item in rule.lists:
        existing = session.get(EnterpriseCategory, item.code)
        wanted = (item.label, item.issuer, item.valid_for_months, item.revocable, item.source or "")
        if existing is None:
            session.add(EnterpriseCategory(code=item.code, name=item.label, issuer=item.issuer,
                                           valid_for_months=item.valid_for_months, revocable=item.revocable,
                                           source=item.source or "", declared_by=rule.code))
        elif (existing.name, existing.issuer, existing.valid_for_months, existing.revocable, existing.source) != wanted:
            if existing.declared_by != rule.code:
                raise Conflict(f"List {item.code} is already declared by {existing.declared_by} with other terms; "
                               f"{rule.code} {rule.version} cannot redefine it.", code="list_declared_elsewhere")
            (existing.name, existing.issuer, existing.valid_for_months, existing.revocable,
             existing.source) = wanted
            session.add(existing)
    session.flush()


def declare_list(session: Session, *, principal: Principal, code: str, label: str, issuer: str,
                 valid_for_months: int | None = None, revocable: bool = True, source: str = "") -> EnterpriseCategory:
    """Declare a new enterprise list (admin): code, label, issuer and how long an entry may stay valid."""
    principal.require("admin")
    begin_write(session)
    if session.get(EnterpriseCategory, code) is not None:
        raise Conflict(f"A list {code} already exists.", code="list_exists", errors={"code": ["already declared"]})
    category = EnterpriseCategory(code=code, name=label, issuer=issuer, valid_for_months=valid_for_months,
                                  revocable=revocable, source=source, declared_by="admin")
    session.add(category)
    session.flush()
    record_event(session, actor=principal.actor, entity="enterprise_category", entity_id=code, action="declared",
                 data={"label": label, "issuer": issuer, "valid_for_months": valid_for_months, "revocable": revocable})
    session.commit()
    return category


def validity_reasons(category: EnterpriseCategory, valid_from: date, valid_to: date | None) -> tuple[date | None, list]:
    """(valid_to to store, reasons): an entry of a list with a validity limit ends by then, never later."""
    if valid_to is not None and valid_to < valid_from:
        return valid_to, [{"code": "period_inverted", "field": "valid_to", "message": "valid_to is before valid_from"}]
    if category.valid_for_months is None:
        return valid_to, []
    latest = add_months(valid_from, category.valid_for_months) - timedelta(days=1)
    if valid_to is None:
        return latest, []
    if valid_to > latest:
        return valid_to, [{"code": "validity_exceeded", "field": "valid_to",
                           "message": f"{category.code} entries last at most {category.valid_for_months} months "
                                      f"(to {latest.isoformat()})"}]
    return valid_to, []


def add_membership(session: Session, *, principal: Principal, enterprise_id: int, category: str, valid_from: date,
                   valid_to: date | None = None, certificate_no: str = "", source: str = "") -> ListMembership:
    """Put an enterprise on a list from a date (admin), within the list's validity rule."""
    principal.require("admin")
    begin_write(session)
    if session.get(Enterprise, enterprise_id) is None:
        raise NotFound(f"No enterprise {enterprise_id}.")
    found = session.get(EnterpriseCategory, category)
    if found is None:
        raise Unprocessable(f"There is no list {category!r}.", code="category_unknown",
                            errors={"category": ["unknown list"]})
    valid_to, reasons = validity_reasons(found, valid_from, valid_to)
    if reasons:
        raise Unprocessable(reasons[0]["message"], code=reasons[0]["code"],
                            errors={r["field"]: [r["message"]] for r in reasons})
    if session.exec(select(ListMembership.id).where(ListMembership.enterprise_id == enterprise_id,
                                                    ListMembership.category == category,
                                                    ListMembership.valid_from == valid_from)).first():
        raise Conflict("This membership is already recorded.", code="duplicate")
    membership = ListMembership(enterprise_id=enterprise_id, category=category, valid_from=valid_from,
                                valid_to=valid_to, certificate_no=certificate_no, source=source)
    session.add(membership)
    session.flush()
    record_event(session, actor=principal.actor, entity="list_membership", entity_id=membership.id, action="added",
                 data={"enterprise_id": enterprise_id, "category": category, "valid_from": valid_from.isoformat(),
                       "valid_to": valid_to.isoformat() if valid_to else None})
    session.commit()
    return membership


def _membership(session: Session, enterprise_id: int, membership_id: int) -> ListMembership:
    membership = session.get(ListMembership, membership_id)
    if membership is None or membership.enterprise_id != enterprise_id:
        raise NotFound(f"No membership {membership_id} of enterprise {enterprise_id}.")
    if membership.revoked_on is not None:
        raise Conflict(f"Membership {membership_id} was revoked on {membership.revoked_on.isoformat()}.",
                       code="membership_revoked")
    return membership


def end_membership(session: Session, *, principal: Principal, enterprise_id: int, membership_id: int, valid_to: date,
                   reason: str) -> ListMembership:
    """End an entry on a date (admin): it counts through that date; it can end earlier, never later."""
    principal.require("admin")
    begin_write(session)
    membership = _membership(session, enterprise_id, membership_id)
    if valid_to < membership.valid_from:
        raise Unprocessable("An entry cannot end before it starts.", code="period_inverted",
                            errors={"valid_to": [f"before valid_from {membership.valid_from.isoformat()}"]})
    if membership.valid_to is not None and valid_to > membership.valid_to:
        raise Unprocessable(f"The entry already ends on {membership.valid_to.isoformat()}; ending cannot extend it.",
                            code="membership_extension", errors={"valid_to": ["after the current end"]})
    before = membership.valid_to
    membership.valid_to, membership.end_reason = valid_to, reason
    session.add(membership)
    record_event(session, actor=principal.actor, entity="list_membership", entity_id=membership.id, action="ended",
                 data={"valid_to": valid_to.isoformat(), "before": before.isoformat() if before else None,
                       "reason": reason})
    session.commit()
    return membership


def revoke_membership(session: Session, *, principal: Principal, enterprise_id: int, membership_id: int,
                      revoked_on: date, reason: str) -> ListMembership:
    """Revoke an entry (admin): it stops counting from revoked_on on; the entry and its dates stay on record."""
    principal.require("admin")
    begin_write(session)
    membership = _membership(session, enterprise_id, membership_id)
    if not session.get(EnterpriseCategory, membership.category).revocable:
        raise Conflict(f"Entries of {membership.category} cannot be revoked, only ended.", code="list_not_revocable")
    if revoked_on < membership.valid_from:
        raise Unprocessable("An entry cannot be revoked before it starts; revoke it from its first day.",
                            code="period_inverted", errors={"revoked_on": [f"before {membership.valid_from}"]})
    membership.revoked_on, membership.revoke_reason = revoked_on, reason
    session.add(membership)
    record_event(session, actor=principal.actor, entity="list_membership", entity_id=membership.id, action="revoked",
                 data={"revoked_on": revoked_on.isoformat(), "reason": reason})
    session.commit()
    return membership
