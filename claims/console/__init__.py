"""The bureau's web console under /console/: server-rendered pages in Chinese for staff, on the API's services."""
from __future__ import annotations

from flask import Blueprint, Flask, g, redirect, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from claims.api import context
from claims.console import labels, session as staff_session
from claims.console.trace import run_counts, yuan
from claims.errors import Problem

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static",
               static_url_path="/static")
csrf = CSRFProtect()
OPEN_ENDPOINTS = {"console.login", "console.static"}
# The console's own policy: its stylesheet, its framed document previews, nothing from elsewhere, no script.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'self'; "
       "form-action 'self'; frame-ancestors 'self'; base-uri 'none'")


@bp.before_request
def _staff_only():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    # An API key or bearer header opens nothing here: only the console's own session cookie does.
    g.principal = staff_session.current_principal(context.session(), settings=context.settings())
    if g.principal is None:
        return redirect(url_for("console.login", next=request.full_path if request.method == "GET" else None))
    if request.method == "POST":
        csrf.protect()
    return None


@bp.after_request
def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.errorhandler(CSRFError)
def _csrf_refused(error):
    from claims.console.pages import render

    return render("console/error.html", code="csrf_failed", message=labels.refusal("csrf_failed"),
                  detail=error.description), 400


@bp.errorhandler(Problem)
def _problem(error: Problem):
    from claims.console.pages import render

    return render("console/error.html", code=error.code, message=labels.refusal(error.code, error.detail),
                  detail=error.detail), error.status


def init_console(app: Flask) -> None:
    """Register the console: cookie flags, CSRF (checked on console posts only), filters, views."""
    from claims.console import views_ops, views_program, views_review, views_session, views_simulation  # noqa: F401

    staff_session.configure_cookie(app, app.extensions["claims"]["settings"])
    # The API authenticates by header, not cookie, so CSRF is checked where the cookie is: the console.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.jinja_env.filters.update(yuan=yuan, state=labels.state, action=labels.action, run_counts=run_counts)
    app.register_blueprint(bp)
