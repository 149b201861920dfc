"""Verify an issued statement: the stored PDF against its recorded digest, the ledger against its content."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from claims.auth import Principal
from claims.models import Statement
from claims.services.statements import get_statement
from reports.periods import Period
from reports.statements import StatementConfig, iter_period


@dataclass(frozen=True)
class Verification:
    """The recorded digest against the stored file, and whether the ledger still gives the same content."""

    statement_id: int
    number: str
    status: str
    recorded_sha256: str
    actual_sha256: str | None
    file_intact: bool
    content_current: bool


def verify_statement(session: Session, *, principal: Principal, registry, statement_id: int, statements_dir: Path,
                     config: StatementConfig) -> Verification:
    """Recompute the SHA-256 of the stored PDF and re-assemble the content from the ledger to compare digests."""
    found = get_statement(session, principal=principal, statement_id=statement_id)
    path = statements_dir / (found.path or "")
    actual = None
    if found.path and path.is_file():
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        actual = digest.hexdigest()
    period = Period(_period_kind(found), found.period_start, found.period_end)
    include = (found.institution_id,) if found.institution_id is not None else ()
    assembled = iter_period(session, registry=registry, program_code=found.program_code, period=period,
                            issue_date=found.period_end, config=config, include_idle=include,
                            institution_id=found.institution_id)
    current = next((a for a in assembled if a.scope == found.scope), None)
    return Verification(statement_id=found.id, number=found.number, status=found.status,
                        recorded_sha256=found.sha256 or "", actual_sha256=actual,
                        file_intact=actual is not None and actual == found.sha256,
                        content_current=current is not None and current.digest == found.content_digest)


def _period_kind(row: Statement) -> str:
    months = (row.period_end.year - row.period_start.year) * 12 + row.period_end.month - row.period_start.month + 1
    return {1: "month", 3: "quarter"}.get(months, "year")
