"""Evidence documents: type sniffed, then checked by parsing; size limited, stored by SHA-256, names never trusted."""
from __future__ import annotations

import hashlib
import re
from typing import BinaryIO

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import (Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable,
                           UnsupportedMediaType)
from claims.filecheck import check_document
from claims.models import Document
from claims.services.applications import get_application
from claims.services.claims import EDITABLE_STATES, get_claim
from claims.storage import Store, document_key, fetch, staged
from workflows.evidence import DOCUMENT_KINDS

OWNER_TYPES = ("claim", "application")

# Content is recognised by its first bytes (a PDF named .jpg is still a PDF, an executable is refused),
# then claims.filecheck parses it as that type.
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_filename(name: str) -> str:
    """A display name with any path, control and reserved characters removed (the file is stored by hash)."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    return (base or "document")[:200]


def sniff_type(head: bytes) -> str | None:
    """The content type recognised from a file's first bytes, or None."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def _owner(session: Session, principal: Principal, owner_type: str, owner_id: int):
    """The claim or application the caller may see, or 404."""
    if owner_type == "claim":
        return get_claim(session, principal=principal, claim_id=owner_id)
    return get_application(session, principal=principal, application_id=owner_id)


def attach_document(session: Session, *, principal: Principal, owner_type: str, owner_id: int, kind: str,
                    filename: str, stream: BinaryIO, store: Store, max_bytes: int,
                    allowed_types: tuple[str, ...]) -> Document:
    """Attach a document to a draft or returned claim or application of the caller's institution."""
    if not principal.is_institution:
        raise Forbidden("Only the applying institution attaches documents.", code="institution_only")
    owner = _owner(session, principal, owner_type, owner_id)
    if owner.status not in EDITABLE_STATES:
        raise Conflict(f"{owner_type.capitalize()} {owner.id} is {owner.status}; documents are added while it is "
                       f"draft or returned.", code=f"{owner_type}_not_editable")
    if kind not in DOCUMENT_KINDS:
        raise Unprocessable(f"kind must be one of {', '.join(DOCUMENT_KINDS)}.", code="document_kind_unknown",
                            errors={"kind": ["unknown document kind"]})
    digest, size, head = hashlib.sha256(), 0, b""
    with staged(store) as tmp:
        with open(tmp, "wb") as out:
            while chunk := stream.read(65536):
                if not head:
                    head = chunk[:16]
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"Documents are limited to {max_bytes} bytes.", code="document_too_large")
                digest.update(chunk)
                out.write(chunk)
        content_type = sniff_type(head)
        if size == 0 or content_type is None or content_type not in allowed_types:
            raise UnsupportedMediaType("Upload a PDF, PNG, JPEG or XLSX file.", code="document_type_refused",
                                       errors={"file": ["content is not an accepted document type"]})
        # Parsed while still staged: a refused file never reaches the store.
        check_document(tmp, content_type)
        sha = digest.hexdigest()
        # Content-addressed: the same bytes attached twice are one object, so an upload already held is not resent.
        if not store.exists(document_key(sha)):
            store.put_file(document_key(sha), tmp)
    begin_write(session)
    document = Document(owner_type=owner_type, owner_id=owner.id, institution_id=owner.institution_id, kind=kind,
                        filename=safe_filename(filename), content_type=content_type, sha256=sha, size=size)
    session.add(document)
    session.flush()
    record_event(session, actor=principal.actor, entity=owner_type, entity_id=owner.id, action="document_attached",
                 data={"document_id": document.id, "kind": kind, "sha256": sha, "size": size})
    session.commit()
    return document


def documents_of(session: Session, *, principal: Principal, owner_type: str, owner_id: int) -> list[Document]:
    """The documents of a claim or application the caller may see."""
    owner = _owner(session, principal, owner_type, owner_id)
    return list(session.exec(select(Document).where(Document.owner_type == owner_type, Document.owner_id == owner.id)
                             .order_by(Document.id)))


def document_row(session: Session, *, principal: Principal, owner_type: str, owner_id: int,
                 document_id: int) -> Document:
    """A document's row, scoped to what the caller may see."""
    owner = _owner(session, principal, owner_type, owner_id)
    document = session.exec(select(Document).where(Document.id == document_id, Document.owner_type == owner_type,
                                                   Document.owner_id == owner.id)).first()
    if document is None:
        raise NotFound(f"No document {document_id} on {owner_type} {owner_id}.")
    return document


def document_file(session: Session, *, principal: Principal, owner_type: str, owner_id: int, document_id: int,
                  store: Store) -> tuple[Document, BinaryIO]:
    """A document's row and its bytes (digest-checked against the row), scoped to what the caller may see."""
    document = document_row(session, principal=principal, owner_type=owner_type, owner_id=owner_id,
                            document_id=document_id)
    return document, fetch(store, document_key(document.sha256), sha256=document.sha256)
