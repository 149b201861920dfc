"""Use cases for programs: publishing rule versions, admissions, and reading what is in force."""
from __future__ import annotations

import functools
import json

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, NotFound, Unprocessable
from claims.models import Admission, Institution, Program, RuleVersion
from claims.models.base import utcnow
from workflows.rules import RuleError, UnknownProgram, parse_rule


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


def _registry_rule(registry, code: str, version: str):
    try:
        return next((rule for rule in registry.versions(code) if rule.version == version), None)
    except UnknownProgram:
        return None


@functools.lru_cache(maxsize=256)
def _parsed_rule(code: str, version: str, sha256: str, parameters_json: str):
    # Keyed by content, so a replaced (never referenced) version is parsed afresh.
    return parse_rule(json.loads(parameters_json), sha256=sha256)


def rule_of_row(registry, row: RuleVersion):
    """The validated rule of a published row: from config/programs when it is there, else from its stored parameters."""
    rule = _registry_rule(registry, row.program_code, row.version)
    if rule is not None:
        return rule
    try:
        return _parsed_rule(row.program_code, row.version, row.sha256, json.dumps(row.parameters, sort_keys=True))
    except RuleError as exc:
        raise NotFound(f"Rule version {row.program_code}/{row.version} no longer validates: {exc}",
                       code="rule_version_not_loaded") from exc


_SESSION_RULES = "claims.loaded_rules"


def loaded_rule(session: Session, registry, *, rule_version_id: int):
    """The loaded (validated) rule object for a published rule version row (read once per session)."""
    # A use case asks for the same version several times (check, compute, the response); the row is read
    # once per session. Only publish_version changes a row in place, and it forgets what was read.
    memo = session.info.setdefault(_SESSION_RULES, {})
    rule = memo.get(rule_version_id)
    if rule is None:
        # The stored document and source are only needed when config/programs does not ship the version.
        row = session.get(RuleVersion, rule_version_id,
                          options=[defer(RuleVersion.parameters), defer(RuleVersion.source)])
        if row is None:
            raise NotFound(f"No rule version {rule_version_id}.")
        rule = memo[rule_version_id] = rule_of_row(registry, row)
    return rule


def rule_governing(session: Session, registry, *, code: str, dates: dict) -> tuple:
    """(rule, row) of the published version in force on the date that version says governs (newest first)."""
    for row in reversed(versions_of(session, code=code)):
        rule = rule_of_row(registry, row)
        on = dates.get(rule.governing_date)
        if on is not None and rule.in_force_on(on):
            return rule, row
    given = ", ".join(f"{k} {v.isoformat()}" for k, v in dates.items() if v is not None)
    raise Unprocessable(f"Program {code} has no published version in force for {given}.", code="no_rule_in_force")


def versions_of(session: Session, *, code: str) -> list[RuleVersion]:
    """Every published version of a program, oldest first."""
    return list(session.exec(select(RuleVersion).where(RuleVersion.program_code == code)
                             .order_by(RuleVersion.effective_from)))


def _referenced(session: Session, rule_version_id: int) -> bool:
    from claims.models import Application, Claim, Loan

    return any(session.exec(select(model.id).where(model.rule_version_id == rule_version_id).limit(1)).first()
               for model in (Loan, Claim, Application))


def publish_version(session: Session, *, principal: Principal, registry, code: str, document: dict,
                    sha256: str) -> tuple[RuleVersion, bool]:
    """Validate and publish a new rule version of a program (admin); (row, newly published).

    The version must validate as a program file does, must not overlap another version's effective
    dates, and may replace an earlier upload of the same version only while nothing refers to it.
    """
    principal.require("admin")
    try:
        rule = parse_rule(document, sha256=sha256)
    except RuleError as exc:
        raise Unprocessable("The rule version does not validate.", code="rule_invalid",
                            errors={"rule": exc.messages}) from exc
    if rule.code != code:
        raise Unprocessable(f"The document is for program {rule.code!r}, not {code!r}.", code="rule_code_mismatch",
                            errors={"program.code": [f"expected {code}"]})
    begin_write(session)
    program = session.get(Program, code)
    if program is not None and program.kind != rule.kind:
        raise Unprocessable(f"Program {code} is a {program.kind}; a version cannot make it a {rule.kind}.",
                            code="rule_kind_mismatch", errors={"program.kind": [f"expected {program.kind}"]})
    same = None
    for row in versions_of(session, code=code):
        if row.version == rule.version:
            same = row
            continue
        if row.effective_from <= (rule.effective_to or row.effective_from) and \
                rule.effective_from <= (row.effective_to or rule.effective_from):
            until = row.effective_to.isoformat() if row.effective_to else "open end"
            raise Unprocessable(f"{code} {rule.version} would overlap version {row.version} (in force "
                                f"{row.effective_from.isoformat()} to {until}).", code="rule_version_overlaps",
                                errors={"program.effective_from": [f"overlaps {row.version}"]})
    if same is not None:
        if same.sha256 == rule.sha256:
            return same, False
        if _registry_rule(registry, code, rule.version) is not None or _referenced(session, same.id):
            raise Conflict(f"{code} version {rule.version} is already published and in use (or shipped in "
                           f"config/programs); publish a new version instead.", code="rule_version_immutable")
        before = same.sha256
        session.info.pop(_SESSION_RULES, None)
        same.effective_from, same.effective_to = rule.effective_from, rule.effective_to
        same.parameters, same.source, same.sha256, same.published_at = rule.to_dict(), rule.source, rule.sha256, utcnow()
        session.add(same)
        record_event(session, actor=principal.actor, entity="rule_version", entity_id=f"{code}/{rule.version}",
                     action="replaced", data={"sha256": rule.sha256, "before": before})
        session.commit()
        return same, True
    publish_rule(session, rule=rule, actor=principal.actor)
    session.commit()
    return rule_version_row(session, rule=rule), True
