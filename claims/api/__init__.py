"""HTTP API: flask-smorest blueprints, one module per resource."""
from __future__ import annotations


def register_blueprints(api) -> None:
    """Register every resource blueprint on the Api."""
    from claims.api import (applications, claims, enterprises, institutions, loans, lpr, programs, reference_data,
                            rule_changes, system)

    for module in (system, institutions, enterprises, reference_data, programs, rule_changes, loans, claims,
                   applications, lpr):
        api.register_blueprint(module.blp)
    from claims.api import jobs, payments, statements

    for module in (statements, jobs, payments):
        api.register_blueprint(module.blp)
