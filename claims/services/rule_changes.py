"""Maker-checker for rule versions: one admin proposes publishing or retiring a version, another approves it."""
from __future__ import annotations

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Forbidden, NotFound, Unprocessable
from claims.models import Program, RuleChange, RuleVersion
from claims.models.base import utcnow
from claims.services.programs import _SESSION_RULES, versions_of
from claims.services.reference_lists import declare_lists
from claims.services.rulebook import LIVE
from workflows.rules import RuleError, parse_rule

PROPOSED, RETIRED, REJECTED, DRAFT = "proposed", "retired", "rejected", "draft"
PENDING = "pending"
# Versions whose effective dates another version may not overlap: those in force and those on their way.
_HOLDING_DATES = (LIVE, PROPOSED)


def _overlap(session: Session, rule, *, code: str, statuses=_HOLDING_DATES) -> None:
    for row in versions_of(session, code=code):
        if row.version == rule.version or row.status not in statuses:
            continue
        if row.effective_from <= (rule.effective_to or row.effective_from) and \
                rule.effective_from <= (row.effective_to or rule.effective_from):
            until = row.effective_to.isoformat() if row.effective_to else "open end"
            raise Unprocessable(f"{code} {rule.version} would overlap version {row.version} ({row.status}, in force "
                                f"{row.effective_from.isoformat()} to {until}).", code="rule_version_overlaps",
                                errors={"program.effective_from": [f"overlaps {row.version}"]})


def pending_change(session: Session, row: RuleVersion, action: str | None = None) -> RuleChange | None:
    """The change of a version waiting for its second admin, if any."""
    statement = select(RuleChange).where(RuleChange.rule_version_id == row.id, RuleChange.status == PENDING)
    if action:
        statement = statement.where(RuleChange.action == action)
    return session.exec(statement).first()


def _propose(session: Session, principal: Principal, row: RuleVersion, action: str, reason: str) -> RuleChange:
    change = RuleChange(rule_version_id=row.id, action=action, reason=reason, proposed_by=principal.actor)
    session.add(change)
    session.flush()
    record_event(session, actor=principal.actor, entity="rule_version", entity_id=f"{row.program_code}/{row.version}",
                 action=f"{action}_proposed", data={"change_id": change.id, "sha256": row.sha256, "reason": reason})
    return change


def propose_version(session: Session, *, principal: Principal, code: str, document: dict, sha256: str,
                    reason: str = "") -> tuple[RuleVersion, bool]:
    """Validate and propose a new rule version (admin); (row, newly proposed). It is live once another admin approves.

    The version must validate as a program file does and must not overlap another live or proposed
    version's dates. A proposal (or a rejected version, or a draft) may be replaced by new content under
    the same version; a live or retired version never changes.
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
    _overlap(session, rule, code=code)
    same = session.exec(select(RuleVersion).where(RuleVersion.program_code == code,
                                                  RuleVersion.version == rule.version)).first()
    if same is not None and same.sha256 == rule.sha256 and same.status not in (REJECTED, DRAFT):
        return same, False
    if same is not None and same.status in (LIVE, RETIRED):
        raise Conflict(f"{code} version {rule.version} is already {same.status}; publish a new version instead.",
                       code="rule_version_immutable")
    if program is None:
        session.add(Program(code=code, kind=rule.kind, name=rule.name))
        session.flush()
    if same is None:
        same = RuleVersion(program_code=code, version=rule.version, effective_from=rule.effective_from,
                           effective_to=rule.effective_to, parameters=rule.to_dict(), source=rule.source,
                           sha256=rule.sha256, status=PROPOSED)
    else:
        previous = pending_change(session, same, "publish")
        if previous is not None:
            previous.status, previous.decided_at = "superseded", utcnow()
            session.add(previous)
        session.info.pop(_SESSION_RULES, None)
        same.effective_from, same.effective_to, same.status = rule.effective_from, rule.effective_to, PROPOSED
        same.parameters, same.source, same.sha256, same.published_at = rule.to_dict(), rule.source, rule.sha256, utcnow()
    session.add(same)
    session.flush()
    _propose(session, principal, same, "publish", reason)
    session.commit()
    return same, True


def propose_retirement(session: Session, *, principal: Principal, code: str, version: str, reason: str) -> RuleChange:
    """Propose retiring a live version (admin): once approved it takes no new loans or applications."""
    principal.require("admin")
    begin_write(session)
    row = version_row(session, code=code, version=version)
    if row.status != LIVE:
        raise Conflict(f"{code} {version} is {row.status}; only a live version can be retired.",
                       code="rule_version_not_live")
    if pending_change(session, row, "retire") is not None:
        raise Conflict(f"Retiring {code} {version} is already proposed.", code="rule_change_pending")
    change = _propose(session, principal, row, "retire", reason)
    session.commit()
    return change


def decide_change(session: Session, *, principal: Principal, change_id: int, approve: bool,
                  note: str = "") -> RuleChange:
    """Approve or reject a pending change (admin, never the one who proposed it); audited."""
    principal.require("admin")
    begin_write(session)
    change = session.get(RuleChange, change_id)
    if change is None:
        raise NotFound(f"No rule change {change_id}.")
    if change.status != PENDING:
        raise Conflict(f"Rule change {change_id} is already {change.status}.", code="rule_change_decided")
    if change.proposed_by == principal.actor:
        raise Forbidden("A second admin must decide a rule change; you proposed this one.",
                        code="separation_of_duties")
    row = session.get(RuleVersion, change.rule_version_id)
    if approve and change.action == "publish":
        # Another version may have gone live since the proposal; dates must still not overlap a live one.
        _overlap(session, _Dates(row), code=row.program_code, statuses=(LIVE,))
        row.status = LIVE
    elif approve:
        row.status = RETIRED
    elif change.action == "publish":
        row.status = REJECTED
    change.status = "approved" if approve else "rejected"
    change.decided_by, change.decided_at, change.decision_note = principal.actor, utcnow(), note
    session.add_all([row, change])
    session.flush()
    outcome = {("publish", True): "published", ("retire", True): "retired"}.get((change.action, approve),
                                                                                f"{change.action}_rejected")
    record_event(session, actor=principal.actor, entity="rule_version", entity_id=f"{row.program_code}/{row.version}",
                 action=outcome, data={"change_id": change.id, "proposed_by": change.proposed_by,
                                       "sha256": row.sha256, "note": note})
    if row.status == LIVE:
        program = session.get(Program, row.program_code)
        rule = parse_rule(row.parameters, sha256=row.sha256)
        program.name = rule.name
        session.add(program)
        declare_lists(session, rule=rule)
    session.commit()
    return change


class _Dates:
    """A stored version's code and dates, in the shape the overlap check reads."""

    def __init__(self, row: RuleVersion):
        self.version, self.effective_from, self.effective_to = row.version, row.effective_from, row.effective_to


def version_row(session: Session, *, code: str, version: str) -> RuleVersion:
    """One stored version of a program, or 404."""
    row = session.exec(select(RuleVersion).where(RuleVersion.program_code == code,
                                                 RuleVersion.version == version)).first()
    if row is None:
        raise NotFound(f"No version {version} of program {code}.")
    return row


def list_changes(session: Session, *, principal: Principal, status: str | None = None,
                 program_code: str | None = None) -> list[tuple[RuleChange, RuleVersion]]:
    """Rule changes with their versions, newest first (staff who administer or audit)."""
    principal.require("admin", "auditor")
    statement = select(RuleChange, RuleVersion).join(RuleVersion, RuleVersion.id == RuleChange.rule_version_id) \
        .order_by(RuleChange.id.desc())
    if status:
        statement = statement.where(RuleChange.status == status)
    if program_code:
        statement = statement.where(RuleVersion.program_code == program_code)
    return list(session.exec(statement))
