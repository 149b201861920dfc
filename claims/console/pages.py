"""What every console page shares: the caller, today, navigation, and rendering with those in context."""
from __future__ import annotations

from flask import g, render_template

from claims.api import context
from claims.console import labels, review
from claims.console.forms import EmptyForm


def render(template: str, **values) -> str:
    """Render a console template with the caller and the navigation."""
    principal = g.get("principal")
    stages = review.stages_for(context.programs(), principal) if principal else []
    values.setdefault("logout_form", EmptyForm(formdata=None))
    values.setdefault("has_role", lambda *roles: bool(principal and principal.roles & set(roles)))
    return render_template(template, me=principal, labels=labels, nav_stages=stages, today=context.today(),
                           **values)


def me():
    """The staff member of this request (set by the console's before_request)."""
    return g.principal
