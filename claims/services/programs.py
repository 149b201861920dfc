"""Use cases for programs: publishing rule versions, admissions, and reading what is in force."""
from __future__ import annotations

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, NotFound, Unprocessable
from claims.models import Admission, Institution, Program, RuleVersion
from claims.models.base import utcnow
from claims.services.reference_lists import declare_lists
from claims.services.rulebook import LIVE


def publish_rule(session: Session, *, rule, actor: str) -> bool:
    """Record a seeded (shipped) rule version in the database, live at once; True when newly published.

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
                            sha256=rule.sha256, status=LIVE))
    session.flush()
    # Seeds are the shipped, code-reviewed files an operator loads with `claims seed`; an admin's upload
    # goes through maker-checker instead (claims.services.rule_changes).
    record_event(session, actor=actor, entity="rule_version", entity_id=f"{rule.code}/{rule.version}",
                 action="published", data={"sha256": rule.sha256, "effective_from": rule.effective_from.isoformat(),
                                           "origin": "seed"})
    declare_lists(session, rule=rule)
    return True


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


_SESSION_RULES = "claims.loaded_rules"


def rule_of_row(registry, row: RuleVersion):
    """The validated rule of a stored version, parsed once per process by the registry."""
    return registry.rule_of(row)


def loaded_rule(session: Session, registry, *, rule_version_id: int):
    """The loaded (validated) rule object for a stored rule version row (read once per session)."""
    # A use case asks for the same version several times (check, compute, the response); the row is read
    # once per session. Only a proposed version changes in place, and its replacement forgets what was read.
    # A version the registry has seen live or retired is final, so it is not read again at all.
    memo = session.info.setdefault(_SESSION_RULES, {})
    rule = memo.get(rule_version_id)
    if rule is None:
        rule = registry.settled_rule(rule_version_id)
    if rule is None:
        # The stored document is loaded (deferred) only when this process has not parsed the version yet.
        row = session.get(RuleVersion, rule_version_id,
                          options=[defer(RuleVersion.parameters), defer(RuleVersion.source)])
        if row is None:
            raise NotFound(f"No rule version {rule_version_id}.")
        rule = memo[rule_version_id] = rule_of_row(registry, row)
    return rule


def rule_governing(session: Session, registry, *, code: str, dates: dict, use: str) -> tuple:
    """(rule, row) of the live version in force on the date that governs the use case in it (newest first).

    When none is, the error names the real reason: no such program, or for each version its status (a
    proposal awaiting its second admin, a retired one) and its dates against the date that governs it.
    """
    rows = list(session.exec(select(RuleVersion).where(RuleVersion.program_code == code,
                                                       RuleVersion.status.in_((LIVE, "proposed", "retired")))
                             .order_by(RuleVersion.effective_from, RuleVersion.id)
                             .options(defer(RuleVersion.parameters), defer(RuleVersion.source))))
    notes, by_kind = [], {}
    for row in reversed(rows):
        rule = rule_of_row(registry, row)
        kind = rule.governing_for(use)
        on = dates.get(kind)
        if row.status == LIVE and on is not None and rule.in_force_on(on):
            return rule, row
        until = rule.effective_to.isoformat() if rule.effective_to else "open end"
        note = (f"{rule.version} (in force {rule.effective_from.isoformat()} to {until}) is chosen by the "
                f"{kind} date, " + (f"which is {on.isoformat()}" if on is not None else
                                                   f"which a {use} does not have"))
        if row.status == "proposed":
            note += "; it awaits a second admin's approval"
        elif row.status == "retired":
            note += "; it was retired"
        notes.append(note)
        by_kind.setdefault(kind, []).append(note)
    if not rows:
        if session.get(Program, code) is None:
            raise Unprocessable(f"There is no program {code}.", code="unknown_program",
                                errors={"program": ["unknown"]})
        raise Unprocessable(f"Program {code} has no live version.", code="no_rule_in_force",
                            errors={"program": ["no live version"]})
    raise Unprocessable(f"Program {code} has no live version in force for this {use}: " + "; ".join(notes) + ".",
                        code="no_rule_in_force", errors=by_kind)


def versions_of(session: Session, *, code: str) -> list[RuleVersion]:
    """Every stored version of a program (draft, proposed, live, retired, rejected), oldest first."""
    return list(session.exec(select(RuleVersion).where(RuleVersion.program_code == code)
                             .order_by(RuleVersion.effective_from, RuleVersion.id)))
