"""Log in, log out, and the home page with what waits at each stage."""
from __future__ import annotations

from flask import redirect, request, url_for

from claims.api import context
from claims.console import bp, review, session as staff_session
from claims.console.forms import LoginForm
from claims.console.pages import me, render
from claims.errors import Problem
from claims.services import oversight


def _safe_next(target: str | None) -> str:
    # Only a path inside the console: never an open redirect to another site.
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The log-in form; on success the session cookie holds the staff token."""
    form, error = LoginForm(), None
    if form.validate_on_submit():
        try:
            staff_session.log_in(context.session(), username=form.username.data, password=form.password.data,
                                 settings=context.settings())
            return redirect(_safe_next(request.args.get("next")))
        except Problem as exc:
            error = exc
    status = 401 if error else 200
    return render("console/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session."""
    staff_session.log_out(context.session())
    return redirect(url_for("console.login"))


@bp.route("/")
def home():
    """Counts per stage (all and overdue) for claims and applications."""
    db, principal, today = context.session(), me(), context.today()
    counts = {}
    for kind, subject in review.SUBJECTS.items():
        by_status = oversight.waiting_by_status(db, subject.scoped(principal), subject.model, overdue_on=today)
        for stage in review.stages_for(context.programs(), principal):
            found = [by_status.get(status, (0, 0)) for status in review.STAGE_STATES[stage]]
            counts[(kind, stage)] = (sum(w for w, _ in found), sum(late for _, late in found))
    return render("console/home.html", counts=counts, subjects=review.SUBJECTS)
