"""create_app(settings): extensions, blueprints, error handlers, per-request session and caller."""
from __future__ import annotations

import logging

from flask import Flask

from claims.api import register_blueprints
from claims.api.context import install_request_hooks
from claims.api.limits import install_limits
from claims.api.problems import ProblemApi, register_error_handlers
from claims.audit import configure_key
from claims.logs import install_logging, install_request_log
from claims.db import make_engine, make_session_factory
from claims.settings import Settings, load_settings
from claims.services.rulebook import PublishedRules

API_DESCRIPTION = """\
Loan risk-compensation, guarantee-fund, subsidy and reward programs for a city finance bureau and its
cooperating banks, insurers and guarantors.

**Authentication.** Institutions send `X-API-Key: ck_…`; staff log in at `POST /auth/token` and send
`Authorization: Bearer <token>` (15 minutes; renew at `POST /auth/refresh`, end at `POST /auth/logout`). **Money** is a JSON string with two decimals (`"12345.60"`), never a
number. **Errors** are `application/problem+json` with a stable `code`. **Lists** take `page` and
`page_size` and answer with an `X-Pagination` header.
"""


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI application for the given settings (loaded from config/ by default)."""
    settings = settings or load_settings()
    app = Flask("claims")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        JSON_SORT_KEYS=False,
        API_TITLE="Claims backend — 科技信贷风险补偿与贴息平台",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        API_SPEC_OPTIONS={
            "info": {"description": API_DESCRIPTION},
            "components": {"securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            }},
            "security": [{"apiKey": []}, {"bearer": []}],
        },
    )
    install_logging()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    # The audit key travels with the sessions (and the process), never into the database.
    sessions.configure(info={"audit_key": settings.audit_key})
    configure_key(settings.audit_key)
    app.extensions["claims"] = {
        "settings": settings,
        "engine": engine,
        "sessions": sessions,
        # The rule versions live in the database (config/programs are seeds `claims seed` publishes).
        "programs": PublishedRules(sessions),
    }
    install_limits(app)
    api = ProblemApi(app)
    app.extensions["claims_api"] = api
    register_error_handlers(app)
    install_request_hooks(app)
    install_request_log(app)
    register_blueprints(api)
    return app
