"""Statements (list, download, verify), job runs (run one as admin), and the audit chain and events."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, send_file, url_for

from claims.api import context
from claims.books import verify_books
from claims.console import bp, labels
from claims.console.forms import EmptyForm, JobForm
from claims.console.pages import me, render
from claims.errors import Problem
from claims.paging import PageRequest
from claims.services import oversight, statements
from reports import job_runs as jobs
from reports import signing, verification
from reports.job_context import load_schedule
from reports.jobs import JOBS, JobDeps

PAGE_SIZE = 30


def _page() -> int:
    value = request.args.get("page", "1")
    return max(int(value), 1) if value.isdigit() else 1


@bp.route("/statements")
def statements_page():
    """Issued statements, newest period first, filtered by program."""
    page = _page()
    result = statements.list_statements(context.session(), principal=me(), page=PageRequest(page, PAGE_SIZE),
                                        program=request.args.get("program") or None)
    return render("console/statements.html", result=result, page=page,
                  pages=max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1), verification=None)


@bp.route("/statements/<int:statement_id>.pdf")
def statement_pdf(statement_id: int):
    """Download a statement's PDF."""
    row, stream = statements.statement_file(context.session(), principal=me(), statement_id=statement_id,
                                            store=context.store())
    response = send_file(stream, mimetype="application/pdf", as_attachment=True, download_name=f"{row.number}.pdf")
    response.headers["Digest-SHA256"] = row.sha256 or ""
    return response


@bp.route("/statements/<int:statement_id>/verify")
def statement_verify(statement_id: int):
    """Recompute the PDF's digest and the content from the ledger, and say whether both still match."""
    settings = context.settings()
    result = verification.verify_statement(context.session(), principal=me(), registry=context.programs(),
                                           statement_id=statement_id, store=context.store(),
                                           config=load_schedule(settings.schedule_file).statement_config(),
                                           roots=signing.trust_roots(signing.credentials(settings)))
    return render("console/verify.html", v=result)


@bp.route("/jobs")
def jobs_page(form: JobForm | None = None, refusal: dict | None = None, status: int = 200):
    """Job runs, newest first, and a form to run each job now (admin)."""
    page = _page()
    result = jobs.list_job_runs(context.session(), principal=me(), page=PageRequest(page, PAGE_SIZE),
                                job=request.args.get("job") or None)
    return render("console/jobs.html", result=result, page=page, jobs=JOBS, form=form or JobForm(formdata=None),
                  refusal=refusal, pages=max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)), status


@bp.route("/jobs/<name>/run", methods=["POST"])
def job_run(name: str):
    """Run a job now under its lock (admin)."""
    form = JobForm()
    if not form.validate():
        return jobs_page(form, {"code": "validation_failed", "message": "期间格式不正确。"}, 422)
    try:
        run = jobs.run_job_now(principal=me(), deps=JobDeps.from_app(current_app), name=name,
                               today=context.today(), period=form.period.data or None)
    except Problem as exc:
        return jobs_page(form, {"code": exc.code, "message": labels.refusal(exc.code, exc.detail)}, exc.status)
    flash(f"任务 {labels.JOBS.get(name, name)} 第 {run.id} 次运行：{labels.JOB_STATUS.get(run.status, run.status)}")
    return redirect(url_for("console.jobs_page"), 303)


@bp.route("/audit")
def audit_page():
    """Verify the chain on request, and list the events of one claim, application or admission."""
    me().require("auditor", "admin")
    entity = request.args.get("entity") if request.args.get("entity") in ("claim", "application", "admission") else None
    entity_id = request.args.get("entity_id", "")
    events = oversight.events_of(context.session(), entity=entity, entity_id=int(entity_id)) \
        if entity and entity_id.isdigit() else None
    report = verify_books(context.session()) if request.args.get("verify") == "1" else None
    return render("console/audit.html", events=events, report=report, entity=entity, entity_id=entity_id,
                  verify_form=EmptyForm())
