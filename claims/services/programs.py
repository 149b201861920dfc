"""Use cases for programs: publishing rule versions, admissions, and reading what is in force."""
from __future__ import annotations

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, NotFound
from claims.models import Admission, Institution, Program, RuleVersion
from claims.models.base import utcnow


def publish_rule(session: Session, *, rule, actor: str) -> bool:
    """Record a validated rule version in the database; True when newly published.

    A published version is immutable: the same code and version with other content is refused, so a
    changed rule must be published as a new version with its own effective date.
    """
    program = session.get(Program, rule.code)
    if program is None:
        session.add(Program(code=rule.code, kind=rule.kind, name=rule.name))
        session.flush()
    elif (program.name, program.kind) != (rule.name, rule.kind):
        program.name, program.kind = rule.name, rule.kind
        session.add(program)
    existing = session.exec(select(RuleVersion).where(RuleVersion.program_code == rule.code,
                                                      RuleVersion.version == rule.version)).first()
    if existing is not None:
        if existing.sha256 != rule.sha256:
            raise Conflict(f"{rule.code} version {rule.version} is already published with other content; "
                           f"publish a new version instead.", code="rule_version_immutable")
        return False
    session.add(RuleVersion(program_code=rule.code, version=rule.version, effective_from=rule.effective_from,
                            effective_to=rule.effective_to, parameters=rule.to_dict(), source=rule.source,
                            sha256=rule.sha256))
    session.flush()
    record_event(session, actor=actor, entity="rule_version", entity_id=f"{rule.code}/{rule.version}",
                 action="published", data={"sha256": rule.sha256, "effective_from": rule.effective_from.isoformat()})
    return True


def rule_version_row(session: Session, *, rule) -> RuleVersion:
    """The database row of a loaded rule version (published at seed time)."""
    row = session.exec(select(RuleVersion).where(RuleVersion.program_code == rule.code,
                                                 RuleVersion.version == rule.version)).first()
    if row is None:
        raise NotFound(f"Rule version {rule.code}/{rule.version} is not published; run `claims seed`.",
                       code="rule_version_unpublished")
    return row


def list_programs(session: Session) -> list[Program]:
    """Every program, by code."""
    return list(session.exec(select(Program).order_by(Program.code)))


def get_program(session: Session, *, code: str) -> Program:
    """One program or 404."""
    program = session.get(Program, code)
    if program is None:
        raise NotFound(f"No program {code}.")
    return program


def admission_of(session: Session, *, institution_id: int, program_code: str) -> Admission | None:
    """The institution's admission to a program, if any."""
    return session.exec(select(Admission).where(Admission.institution_id == institution_id,
                                                Admission.program_code == program_code)).first()


def set_admission(session: Session, *, principal: Principal, institution_id: int, program_code: str,
                  status: str, reason: str = "") -> Admission:
    """Admit, suspend or reinstate an institution in a program (admin); audited."""
    principal.require("admin")
    begin_write(session)
    get_program(session, code=program_code)
    if session.get(Institution, institution_id) is None:
        raise NotFound(f"No institution {institution_id}.")
    admission = admission_of(session, institution_id=institution_id, program_code=program_code)
    before = admission.status if admission else "none"
    if admission is None:
        admission = Admission(institution_id=institution_id, program_code=program_code)
    admission.status, admission.reason, admission.updated_at = status, reason, utcnow()
    session.add(admission)
    session.flush()
    record_event(session, actor=principal.actor, entity="admission", entity_id=admission.id, action=status,
                 data={"institution_id": institution_id, "program": program_code, "from": before, "reason": reason})
    session.commit()
    return admission


def list_admissions(session: Session, *, principal: Principal, program_code: str | None = None) -> list[Admission]:
    """Admissions visible to the caller (an institution sees its own)."""
    statement = select(Admission).order_by(Admission.id)
    if principal.is_institution:
        statement = statement.where(Admission.institution_id == principal.institution_id)
    if program_code:
        statement = statement.where(Admission.program_code == program_code)
    return list(session.exec(statement))


def rule_version_by_id(session: Session, *, rule_version_id: int) -> RuleVersion:
    """A published rule version row by id."""
    row = session.get(RuleVersion, rule_version_id)
    if row is None:
        raise NotFound(f"No rule version {rule_version_id}.")
    return row


def loaded_rule(session: Session, registry, *, rule_version_id: int):
    """The loaded (validated) rule object for a published rule version row."""
    row = rule_version_by_id(session, rule_version_id=rule_version_id)
    for rule in registry.versions(row.program_code):
        if rule.version == row.version:
            return rule
    raise NotFound(f"Rule version {row.program_code}/{row.version} is published but no longer in config/programs.",
                   code="rule_version_not_loaded")


def versions_of(session: Session, *, code: str) -> list[RuleVersion]:
    """Every published version of a program, oldest first."""
    return list(session.exec(select(RuleVersion).where(RuleVersion.program_code == code)
                             .order_by(RuleVersion.effective_from)))
