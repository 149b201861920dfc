"""The rule versions in force, read from the database: one source of truth for every use case and worker."""
from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from claims.errors import NotFound
from claims.models import RuleVersion
from workflows.rules import ProgramRegistry, ProgramRule, RuleError, parse_rule

LIVE = "live"
# Once live a version's content never changes again (retiring it changes only its status); a proposed or
# rejected one may be re-proposed with other content under the same id.
SETTLED = (LIVE, "retired")


class PublishedRules:
    """The live rule versions in the database as a program registry, each version parsed once per process.

    Files under config/programs are only seeds (`claims seed` publishes them). A version approved in any
    worker is seen here on the next read: every read compares a fingerprint of the rule_version table
    (id, status and digest of each row; a few dozen rows) and reloads only what changed, so no restart
    is needed and an unchanged table costs one small query.
    """

    def __init__(self, sessions: sessionmaker):
        self._sessions = sessions
        self._lock = threading.Lock()
        self._fingerprint: tuple | None = None
        self._registry = ProgramRegistry([])
        self._parsed: dict[tuple[int, str], ProgramRule] = {}
        self._settled: dict[int, ProgramRule] = {}  # by id: versions seen live or retired, whose content is final

    def rule_of(self, row: RuleVersion) -> ProgramRule:
        """The validated rule of a stored version (its parameters parsed once per process, keyed by digest)."""
        key = (row.id, row.sha256)
        rule = self._parsed.get(key)
        if rule is None:
            try:
                rule = parse_rule(row.parameters, sha256=row.sha256)
            except RuleError as exc:
                raise NotFound(f"Rule version {row.program_code}/{row.version} no longer validates: {exc}",
                               code="rule_version_not_loaded") from exc
            self._parsed[key] = rule
        if row.status in SETTLED:
            self._settled[row.id] = rule
        return rule

    def settled_rule(self, rule_version_id: int) -> ProgramRule | None:
        """The rule of a version this process has seen live or retired (its content is final), else None."""
        return self._settled.get(rule_version_id)

    def current(self) -> ProgramRegistry:
        """The live versions as they are in the database now (reloaded when the table changed)."""
        with self._sessions() as session:
            fingerprint = tuple(session.execute(select(RuleVersion.id, RuleVersion.status, RuleVersion.sha256)
                                                .order_by(RuleVersion.id)).all())
            with self._lock:
                if fingerprint != self._fingerprint:
                    wanted = [row_id for row_id, status, sha in fingerprint
                              if status == LIVE and (row_id, sha) not in self._parsed]
                    if wanted:
                        for row in session.scalars(select(RuleVersion).where(RuleVersion.id.in_(wanted))):
                            self.rule_of(row)
                    live = {(row_id, sha) for row_id, status, sha in fingerprint if status == LIVE}
                    rules = [rule for key, rule in self._parsed.items() if key in live]
                    self._registry = ProgramRegistry(rules)
                    self._fingerprint = fingerprint
                return self._registry

    def programs(self) -> list[str]:
        """Every program code with a live version, sorted."""
        return self.current().programs()

    def versions(self, code: str) -> list[ProgramRule]:
        """Every live version of a program, oldest first."""
        return self.current().versions(code)

    def rule_for(self, code: str, on: date) -> ProgramRule:
        """The live version of the program in force on the date."""
        return self.current().rule_for(code, on)

    def rule_governing(self, code: str, dates: Mapping[str, date | None]) -> ProgramRule:
        """The live version in force on the date each version says governs."""
        return self.current().rule_governing(code, dates)
