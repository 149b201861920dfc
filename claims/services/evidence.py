"""The documents checklist of a claim or application: what its program and its reviewers ask for, what is on file."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from claims.errors import Unprocessable
from claims.models import Document, DocumentRequest
from claims.models.base import utcnow
from workflows.evidence import DOCUMENT_KINDS, Checklist, OpenRequest, SubjectFacts, build_checklist

SUBMITTING_ACTIONS = ("submit", "resubmit")


def _facts(subject_type: str, subject) -> SubjectFacts:
    if subject_type == "claim":
        return SubjectFacts(lawsuit=subject.lawsuit_accepted_on is not None)
    return SubjectFacts(fee_kind=subject.fee_kind or "")


def _open_requests(session: Session, subject_type: str, subject_id: int) -> list[DocumentRequest]:
    return list(session.exec(select(DocumentRequest).where(
        DocumentRequest.subject_type == subject_type, DocumentRequest.subject_id == subject_id,
        DocumentRequest.status == "open").order_by(DocumentRequest.id)))


def checklist_of(session: Session, *, subject_type: str, subject, rule) -> Checklist:
    """The checklist of a claim or application: required by the program and by open requests, and what is on file."""
    files = session.exec(select(Document.id, Document.kind).where(Document.owner_type == subject_type,
                                                                  Document.owner_id == subject.id)).all()
    requests = [OpenRequest(r.kind, r.count, r.after_document_id, r.note)
                for r in _open_requests(session, subject_type, subject.id)]
    return build_checklist(rule.documents, _facts(subject_type, subject), files, requests)


def new_checklist(*, subject_type: str, subject, rule) -> Checklist:
    """The checklist of a claim or application created in this request: nothing is on file or requested yet."""
    # Documents attach to a stored subject and requests come with a return, so none can exist before it is
    # answered: there is nothing to read.
    return build_checklist(rule.documents, _facts(subject_type, subject), (), ())


def checklist_data(checklist: Checklist) -> dict:
    """The checklist as the API shows it: complete, and each line with required, present and missing."""
    return {"complete": checklist.complete, "items": [item.to_dict() for item in checklist.items],
            "missing": [item.to_dict() for item in checklist.missing]}


def require_complete(session: Session, *, subject_type: str, subject, rule) -> None:
    """Refuse a submission (422 documents_missing) naming every document still missing."""
    checklist = checklist_of(session, subject_type=subject_type, subject=subject, rule=rule)
    if checklist.complete:
        return
    missing = checklist.describe_missing()
    raise Unprocessable("申请材料不全，不能提交：" + "；".join(missing) + "。", code="documents_missing",
                        errors={"documents": missing}, extra={"missing": [i.to_dict() for i in checklist.missing]})


def request_documents(session: Session, *, subject_type: str, subject, requests: list[dict], actor: str) -> list[dict]:
    """Record a return's requests for new documents; returns them as the corrections the event reports."""
    unknown = sorted({r["kind"] for r in requests} - set(DOCUMENT_KINDS))
    if unknown:
        raise Unprocessable(f"Unknown document kind(s): {', '.join(unknown)}.", code="document_kind_unknown",
                            errors={"documents_requested": [f"unknown kind {k}" for k in unknown]})
    latest = session.exec(select(func.coalesce(func.max(Document.id), 0)).where(
        Document.owner_type == subject_type, Document.owner_id == subject.id)).one()
    asked = []
    for request in requests:
        row = DocumentRequest(subject_type=subject_type, subject_id=subject.id, kind=request["kind"],
                              count=request.get("count", 1), note=request.get("note", ""),
                              after_document_id=int(latest), requested_by=actor)
        session.add(row)
        asked.append({"kind": row.kind, "label": DOCUMENT_KINDS[row.kind], "count": row.count, "note": row.note})
    session.flush()
    return asked


def fulfil_requests(session: Session, *, subject_type: str, subject) -> int:
    """Close a subject's open requests once it is resubmitted with them satisfied; returns how many."""
    rows = _open_requests(session, subject_type, subject.id)
    for row in rows:
        row.status, row.fulfilled_at = "fulfilled", utcnow()
        session.add(row)
    return len(rows)


def check_transition(session: Session, *, subject_type: str, subject, rule, action: str,
                     documents_requested: list[dict] | None) -> None:
    """Before a transition: a submission needs its checklist complete; only a return may ask for documents."""
    if documents_requested and action != "return":
        raise Unprocessable("Documents are requested only when returning for correction (退回补正).",
                            code="documents_requested_not_allowed",
                            errors={"documents_requested": ["only with action return"]})
    if action in SUBMITTING_ACTIONS:
        require_complete(session, subject_type=subject_type, subject=subject, rule=rule)


def record_transition(session: Session, *, subject_type: str, subject, action: str,
                      documents_requested: list[dict] | None, actor: str) -> dict:
    """With a transition: a return records the documents it asks for, a resubmission closes the requests met.

    Returns what the transition's event reports about corrections (the documents asked, on a return).
    """
    if action == "return":
        asked = request_documents(session, subject_type=subject_type, subject=subject,
                                  requests=documents_requested or [], actor=actor) if documents_requested else []
        return {"documents_requested": asked}
    if action == "resubmit":
        fulfil_requests(session, subject_type=subject_type, subject=subject)
    return {}
