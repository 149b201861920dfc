"""Draft rule versions: saved and validated like any version, never live, proposed later through maker-checker."""
from __future__ import annotations

import copy
import hashlib
import json
import re

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Unprocessable
from claims.models import RuleVersion
from claims.models.base import utcnow
from claims.services.programs import _SESSION_RULES, get_program
from claims.services.rule_changes import DRAFT, propose_version, version_row
from workflows.rules import RuleError, parse_rule

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _validated(document: dict, sha256: str, code: str):
    try:
        rule = parse_rule(document, sha256=sha256)
    except RuleError as exc:
        raise Unprocessable("The draft does not validate.", code="rule_invalid", errors={"rule": exc.messages}) from exc
    if rule.code != code:
        raise Unprocessable(f"The document is for program {rule.code!r}, not {code!r}.", code="rule_code_mismatch",
                            errors={"program.code": [f"expected {code}"]})
    return rule


def save_draft(session: Session, *, principal: Principal, code: str, document: dict, sha256: str) -> RuleVersion:
    """Validate and save a draft version of an existing program (admin); a draft of the same version is replaced."""
    principal.require("admin")
    rule = _validated(document, sha256, code)
    begin_write(session)
    program = get_program(session, code=code)
    if program.kind != rule.kind:
        raise Unprocessable(f"Program {code} is a {program.kind}; a draft cannot make it a {rule.kind}.",
                            code="rule_kind_mismatch", errors={"program.kind": [f"expected {program.kind}"]})
    row = session.exec(select(RuleVersion).where(RuleVersion.program_code == code,
                                                 RuleVersion.version == rule.version)).first()
    if row is not None and row.status != DRAFT:
        raise Conflict(f"{code} version {rule.version} is already {row.status}; name the draft another version.",
                       code="rule_version_immutable")
    row = row or RuleVersion(program_code=code, version=rule.version, status=DRAFT, sha256="",
                             effective_from=rule.effective_from, parameters={})
    session.info.pop(_SESSION_RULES, None)
    row.effective_from, row.effective_to, row.parameters = rule.effective_from, rule.effective_to, rule.to_dict()
    row.source, row.sha256, row.published_at = rule.source, rule.sha256, utcnow()
    session.add(row)
    session.flush()
    record_event(session, actor=principal.actor, entity="rule_version", entity_id=f"{code}/{rule.version}",
                 action="draft_saved", data={"sha256": rule.sha256})
    session.commit()
    return row


def _set(document: dict, path: str, value) -> None:
    parts = [int(index) if index else name for name, index in _PATH_PART.findall(path)]
    if not parts:
        raise Unprocessable(f"{path!r} is not a key path such as compensation.uplifts[0].add.",
                            code="draft_path_invalid", errors={"set": [path]})
    node = document
    try:
        for part in parts[:-1]:
            node = node[part]
        if isinstance(parts[-1], int) and not isinstance(node, list):
            raise TypeError(path)
        node[parts[-1]] = value
    except (KeyError, IndexError, TypeError) as exc:
        raise Unprocessable(f"The version has no key {path!r}.", code="draft_path_invalid",
                            errors={"set": [path]}) from exc


def copy_to_draft(session: Session, *, principal: Principal, code: str, from_version: str, version: str,
                  changes: dict) -> RuleVersion:
    """A draft copied from a stored version with some keys set (dotted paths), validated like an upload (admin).

    The original's [[examples]] are left behind: they state what that version pays, which a draft with
    other numbers does not.
    """
    principal.require("admin")
    document = copy.deepcopy(version_row(session, code=code, version=from_version).parameters)
    document.pop("examples", None)
    document.setdefault("program", {})["version"] = version
    for path, value in changes.items():
        _set(document, path, value)
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    return save_draft(session, principal=principal, code=code, document=document, sha256=digest)


def propose_draft(session: Session, *, principal: Principal, code: str, version: str, reason: str = ""):
    """Propose a draft for publication (admin): from here it is a proposal a second admin approves or rejects."""
    row = version_row(session, code=code, version=version)
    if row.status != DRAFT:
        raise Conflict(f"{code} {version} is {row.status}, not a draft.", code="rule_version_not_draft")
    return propose_version(session, principal=principal, code=code, document=copy.deepcopy(row.parameters),
                           sha256=row.sha256, reason=reason)


def drafts_of(session: Session, *, code: str) -> list[RuleVersion]:
    """The program's draft versions, oldest first."""
    get_program(session, code=code)
    return list(session.exec(select(RuleVersion).where(RuleVersion.program_code == code, RuleVersion.status == DRAFT)
                             .order_by(RuleVersion.id)))

