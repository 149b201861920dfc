"""Verify statements: the stored PDF against its digest and signature, the ledger against its content; a held copy."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from claims.auth import Principal
from claims.models import Statement
from claims.services.statements import get_statement, scoped_statements
from claims.storage import Store, read_bytes, statement_key
from reports.periods import Period
from reports.signing import SignatureCheck, check_signature
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
    signed: bool = False
    signature_intact: bool = False  # the signed bytes are unchanged
    signature_valid: bool = False  # the signature itself checks out
    signature_trusted: bool = False  # the signer's certificate chains to the bureau's CA
    signature_covers_file: bool = False  # nothing was appended after signing
    signed_by: str = ""
    signed_at: datetime | None = None
    signature_summary: str = ""

    @property
    def ok(self) -> bool:
        """Everything holds: file as recorded, signature intact, valid and trusted."""
        return (self.file_intact and self.signature_intact and self.signature_valid and self.signature_trusted
                and self.signature_covers_file)


def _signature_fields(check: SignatureCheck) -> dict:
    return {"signed": check.signed, "signature_intact": check.intact, "signature_valid": check.valid,
            "signature_trusted": check.trusted, "signature_covers_file": check.covers_whole_file, "signed_by": check.signer,
            "signed_at": check.signed_at, "signature_summary": check.summary}


def verify_statement(session: Session, *, principal: Principal, registry, statement_id: int, store: Store,
                     config: StatementConfig, roots: list) -> Verification:
    """Check the stored PDF's SHA-256 and PAdES signature (against roots), and re-assemble it from the ledger."""
    found = get_statement(session, principal=principal, statement_id=statement_id)
    actual, check = None, SignatureCheck(False, False, False, False, False, summary="文件缺失")
    # One statement's file; the signature check needs all of it anyway. Read unchecked: this reports the digest.
    data = read_bytes(store, statement_key(found.path)) if found.path else None
    if data is not None:
        actual = hashlib.sha256(data).hexdigest()
        check = check_signature(data, roots)
    period = Period(_period_kind(found), found.period_start, found.period_end)
    include = (found.institution_id,) if found.institution_id is not None else ()
    assembled = iter_period(session, registry=registry, program_code=found.program_code, period=period,
                            issue_date=found.issue_date or found.period_end, config=config, include_idle=include,
                            institution_id=found.institution_id)
    current = next((a for a in assembled if a.scope == found.scope), None)
    return Verification(statement_id=found.id, number=found.number, status=found.status,
                        recorded_sha256=found.sha256 or "", actual_sha256=actual,
                        file_intact=actual is not None and actual == found.sha256,
                        content_current=current is not None and current.digest == found.content_digest,
                        **_signature_fields(check))


@dataclass(frozen=True)
class DocumentVerification:
    """A PDF someone holds (a bank's e-mailed copy): its signature, and which issued statement it is, if any."""

    sha256: str
    statement_id: int | None
    number: str
    status: str
    signed: bool
    signature_intact: bool
    signature_valid: bool
    signature_trusted: bool
    signature_covers_file: bool
    signed_by: str
    signed_at: datetime | None
    signature_summary: str


def verify_document(session: Session, *, principal: Principal, data: bytes, roots: list) -> DocumentVerification:
    """Validate an uploaded statement PDF's signature and find the issued statement with its exact SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    found = session.exec(scoped_statements(principal).where(Statement.sha256 == digest)).first()
    return DocumentVerification(sha256=digest, statement_id=found.id if found else None,
                                number=found.number if found else "", status=found.status if found else "unknown",
                                **_signature_fields(check_signature(data, roots)))


def _period_kind(row: Statement) -> str:
    months = (row.period_end.year - row.period_start.year) * 12 + row.period_end.month - row.period_start.month + 1
    return {1: "month", 3: "quarter"}.get(months, "year")
