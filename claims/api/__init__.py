"""HTTP API: flask-smorest blueprints, one module per resource."""
from __future__ import annotations


def register_blueprints(api) -> None:
    """Register every resource blueprint on the Api."""
    from claims.api import (
        applications,
        claims,
        documents,
        enterprises,
        events,
        institutions,
        loans,
        lpr,
        program_drafts,
        programs,
        reference_data,
        rule_changes,
        simulations,
        system,
        users,
        webhooks,
    )

    for module in (system, users, institutions, enterprises, reference_data, programs, program_drafts, simulations,
                   rule_changes, loans, claims, applications, documents, lpr, events, webhooks):
        api.register_blueprint(module.blp)
    from claims.api import jobs, payments, statements

    for module in (statements, jobs, payments):
        api.register_blueprint(module.blp)
