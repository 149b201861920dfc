"""Use cases for institutions and their API keys."""
from __future__ import annotations

from sqlmodel import Session, select

from claims import auth
from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, NotFound
from claims.models import ApiKey, Institution
from claims.paging import Page, PageRequest, fetch_page


def create_institution(session: Session, *, principal: Principal, code: str, kind: str, name: str,
                       uscc: str) -> Institution:
    """Admit a new bank, insurer or guarantor to the platform (admin)."""
    principal.require("admin")
    begin_write(session)
    clash = session.exec(select(Institution).where((Institution.code == code) | (Institution.uscc == uscc))).first()
    if clash:
        field = "code" if clash.code == code else "uscc"
        raise Conflict(f"An institution with this {field} already exists.", code="institution_exists",
                       errors={field: ["already registered"]})
    institution = Institution(code=code, kind=kind, name=name, uscc=uscc)
    session.add(institution)
    session.flush()
    record_event(session, actor=principal.actor, entity="institution", entity_id=institution.id,
                 action="created", data={"code": code, "kind": kind, "uscc": uscc})
    session.commit()
    return institution


def list_institutions(session: Session, *, principal: Principal, page: PageRequest,
                      kind: str | None = None) -> Page[Institution]:
    """Institutions visible to the caller: staff see all, an institution only itself."""
    statement = select(Institution).order_by(Institution.id)
    if principal.is_institution:
        statement = statement.where(Institution.id == principal.institution_id)
    if kind:
        statement = statement.where(Institution.kind == kind)
    return fetch_page(session, statement, page)


def get_institution(session: Session, *, principal: Principal, institution_id: int) -> Institution:
    """One institution, or 404 when it does not exist or is not the caller's."""
    institution = session.get(Institution, institution_id)
    if institution is None or (principal.is_institution and institution.id != principal.institution_id):
        raise NotFound(f"No institution {institution_id}.")
    return institution


def issue_key(session: Session, *, principal: Principal, institution_id: int, label: str = "") -> tuple[ApiKey, str]:
    """Issue an API key for an institution (admin); the plaintext is shown once."""
    principal.require("admin")
    begin_write(session)
    institution = get_institution(session, principal=principal, institution_id=institution_id)
    key, plaintext = auth.issue_api_key(session, institution=institution, label=label, issued_by=principal.name)
    record_event(session, actor=principal.actor, entity="api_key", entity_id=key.prefix, action="issued",
                 data={"institution_id": institution.id, "label": label, "admin": principal.name})
    session.commit()
    return key, plaintext


def revoke_key(session: Session, *, principal: Principal, prefix: str) -> ApiKey:
    """Revoke an API key by its prefix (admin)."""
    principal.require("admin")
    begin_write(session)
    try:
        key = auth.revoke_api_key(session, prefix=prefix)
    except LookupError:
        raise NotFound(f"No API key with prefix {prefix}.") from None
    record_event(session, actor=principal.actor, entity="api_key", entity_id=prefix, action="revoked")
    session.commit()
    return key


def list_keys(session: Session, *, principal: Principal, institution_id: int) -> list[ApiKey]:
    """An institution's keys (prefix, label, issuer, first use; never the secret) for admins and the institution."""
    if not principal.is_institution:
        principal.require("admin")
    get_institution(session, principal=principal, institution_id=institution_id)
    return list(session.exec(select(ApiKey).where(ApiKey.institution_id == institution_id).order_by(ApiKey.id)))
