"""Queues, the item page with its trace, evidence and decisions, and the review actions as forms."""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, request, send_file, url_for

from claims.api import context
from claims.console import bp, labels, lookups, preview, review
from claims.console.forms import TransitionForm
from claims.console.pages import me, render
from claims.console.trace import CAPS as trace_caps
from claims.console.trace import rows as trace_rows
from claims.errors import PreconditionFailed, Problem
from claims.paging import PageRequest
from claims.services import documents, programs

PAGE_SIZE = 25
KINDS = {"claims": "claim", "applications": "application"}
DONE = {"start_review": "已开始初审", "pass": "初审通过，已转复审", "approve": "复审已批准，预算已预留",
        "pay": "已拨付", "return": "已退回机构补正", "reject": "已作出不予补偿决定", "revoke": "已撤销批准"}


def _subject(kind: str) -> review.Subject:
    if kind not in KINDS:
        abort(404)
    return review.SUBJECTS[KINDS[kind]]


def _int(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.route("/<kind>/queue/<stage>")
def queue(kind: str, stage: str):
    """One stage's queue: filter by program, bank, state and overdue; sort by due date; paginated."""
    subject, db, principal, today = _subject(kind), context.session(), me(), context.today()
    if stage not in review.STAGE_STATES:
        abort(404)
    states = review.STAGE_STATES[stage]
    state = request.args.get("state") if request.args.get("state") in states else None
    overdue = request.args.get("overdue") == "1"
    page = max(_int("page") or 1, 1)
    sort = "due" if request.args.get("sort", "due") == "due" else None
    result = subject.list(db, principal=principal, page=PageRequest(page, PAGE_SIZE), status=state or ",".join(states),
                          program=request.args.get("program") or None, institution_id=_int("bank"),
                          sla_overdue_on=today if overdue else None, sort=sort)
    late = {item.id: review.working_days_late(item.stage_due_on, today) for item in result.items}
    pages = max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render("console/queue.html", kind=kind, subject=subject, stage=stage, states=states, result=result,
                  names=lookups.names(db, result.items), late=late, page=page, pages=pages, args=request.args,
                  program_list=programs.list_programs(db), banks=lookups.banks(db))


def _detail_values(kind: str, subject: review.Subject, item):
    db, principal = context.session(), me()
    registry = context.programs()
    rule = programs.loaded_rule(db, registry, rule_version_id=item.rule_version_id)
    loan, firm = lookups.loan_and_firm(db, getattr(item, "loan_id", None), getattr(item, "enterprise_id", None))
    list_on = getattr(rule.enterprise, "list_on", "disbursement")
    on = (loan.disbursed_on if loan and list_on == "disbursement" else getattr(item, "default_on", None)) \
        or getattr(item, "period_end", None)
    decisions = subject.decisions_of(db, item)
    docs = documents.documents_of(db, principal=principal, owner_type=subject.kind, owner_id=item.id)
    return {"kind": kind, "subject": subject, "item": item, "rule": rule, "loan": loan, "firm": firm,
            "bank": lookups.institution(db, item.institution_id), "memberships": lookups.memberships_on(
                db, firm.id if firm else None, on), "list_on": on,
            "list_names": lookups.category_names(db), "trace": trace_rows(item.trace, lookups.category_names(db)),
            "documents": docs, "document_kinds": documents.DOCUMENT_KINDS, "decisions": decisions,
            "staff": lookups.staff_names(db, [d.user_id for d in decisions]),
            "actions": review.open_actions(db, registry, subject, item, principal),
            "late": review.working_days_late(item.stage_due_on, context.today()),
            "cap_names": trace_caps,
            "program_name": lookups.names(db, [item])["program"].get(item.program_code, item.program_code)}


def _page(kind: str, item_id: int, status: int = 200, **extra):
    subject = _subject(kind)
    item = subject.get_one(context.session(), me(), item_id)
    values = _detail_values(kind, subject, item)
    form = TransitionForm(formdata=None, version=item.version, seen_status=item.status,
                          seen_amount=str(item.computed_fen), seen_decisions=str(len(values["decisions"])))
    response = make_response(render("console/item.html", form=form, **values, **extra), status)
    response.headers["ETag"] = f'"{item.version}"'
    return response


@bp.route("/<kind>/<int:item_id>")
def item_page(kind: str, item_id: int):
    """The item page: facts, memberships, the amount with its trace, documents, decisions, and open actions."""
    return _page(kind, item_id)


@bp.route("/<kind>/<int:item_id>/act", methods=["POST"])
def act(kind: str, item_id: int):
    """Take one action through the service; a refusal or a stale page is shown on the item page, not a failure."""
    subject, form = _subject(kind), TransitionForm()
    if not form.validate():
        return _page(kind, item_id, 422, refusal={"code": "validation_failed", "message": "表单填写不完整或格式不正确。",
                                                  "errors": form.errors})
    try:
        amount_fen = form.amount_fen() if form.action.data == "approve" else None
    except Exception as exc:  # noqa: BLE001 - a ValidationError from the yuan parser
        return _page(kind, item_id, 422, refusal={"code": "amount_invalid", "message": labels.refusal("amount_invalid"),
                                                  "detail": str(exc)})
    try:
        subject.move(context.session(), principal=me(), registry=context.programs(), item_id=item_id,
                     action=form.action.data, version=form.version.data, today=context.today(),
                     reason=(form.reason.data or "").strip(), amount_fen=amount_fen)
    except PreconditionFailed as exc:
        context.session().rollback()
        return _page(kind, item_id, 409, stale={"status": form.seen_status.data, "amount": form.seen_amount.data,
                                                "decisions": int(form.seen_decisions.data or 0),
                                                "detail": exc.detail})
    except Problem as exc:
        context.session().rollback()
        return _page(kind, item_id, exc.status, refusal={"code": exc.code, "message": labels.refusal(exc.code, exc.detail),
                                                         "detail": exc.detail, "extra": exc.extra, "errors": exc.errors})
    flash(f"{subject.label} {item_id}：{DONE.get(form.action.data, labels.action(form.action.data))}")
    return redirect(url_for("console.item_page", kind=kind, item_id=item_id), 303)


@bp.route("/claims/<int:claim_id>/documents/<int:document_id>")
def document(claim_id: int, document_id: int):
    """A claim's document shown inline (PDF or image) for the preview frame."""
    row, stream = documents.document_file(context.session(), principal=me(), owner_type="claim", owner_id=claim_id,
                                          document_id=document_id, store=context.store())
    response = send_file(stream, mimetype=row.content_type, as_attachment=False, download_name=row.filename)
    # The browser's own PDF viewer renders it; only this site may frame it.
    response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.route("/claims/<int:claim_id>/documents/<int:document_id>/preview.png")
def document_preview(claim_id: int, document_id: int):
    """The first page of a claim's PDF as an image (pdftoppm, cached by the file's SHA-256)."""
    row = documents.document_row(context.session(), principal=me(), owner_type="claim", owner_id=claim_id,
                                 document_id=document_id)
    if row.content_type != "application/pdf":
        abort(404)
    response = send_file(preview.first_page_png(context.store(), row.sha256, context.settings().data_dir / "previews"),
                         mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
