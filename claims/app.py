"""create_app(settings): extensions, blueprints, error handlers, per-request session and caller."""
from __future__ import annotations

import logging

from flask import Flask

from claims.api import register_blueprints
from claims.api import catalogue, docs
from claims.api.context import install_request_hooks
from claims.api.limits import install_limits
from claims.api.problems import ProblemApi, register_error_handlers
from claims.audit import configure_key
from claims.logs import install_logging, install_request_log
from claims.db import make_engine, make_session_factory
from claims.settings import Settings, load_settings
from claims.api.docs import docs_config
from claims.services.rulebook import PublishedRules

API_DESCRIPTION = """\
Loan risk-compensation, guarantee-fund, subsidy and reward programs for a city finance bureau and its
cooperating banks, insurers and guarantors.

**Authentication.** Institutions send `X-API-Key: ck_…`; staff log in at `POST /auth/token` and send
`Authorization: Bearer <token>` (15 minutes; renew at `POST /auth/refresh`, end at `POST /auth/logout`). Each operation's `security` says which, and `x-roles` (also in its
description) which roles may call it. **Money** is a JSON string with two decimals (`"12345.60"`), never a
number. **Dates** (`YYYY-MM-DD`) are business dates in Asia/Shanghai; **timestamps** are RFC 3339 in UTC.
**Lists** take `page`, `page_size` and `updated_since` (a UTC timestamp: only rows changed since) and answer
with an `X-Pagination` header. **Writes** take `Idempotency-Key`; state changes need `If-Match` with the
`ETag` you read. **Errors** are `application/problem+json` with a stable `code`, field errors as
`errors[] = {field, code, message}`, and a `type` linking to the error catalogue at [/errors](/errors);
messages are Chinese unless `Accept-Language` prefers English. Every response carries `X-Request-Id`
(yours, if you sent one): quote it to support. Also as [ReDoc](/redoc).

**认证**：机构使用 `X-API-Key`，工作人员使用 `Authorization: Bearer`。金额为两位小数的字符串；
日期为北京时间的业务日期，时间戳为 UTC。错误为 problem+json，`code` 稳定，说明见 [错误代码目录](/errors)。
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
        **docs_config(),
        API_SPEC_OPTIONS={
            "info": {"description": API_DESCRIPTION},
            "components": {"securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "Institutions (banks, insurers, guarantors): ck_… issued by the bureau"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "Bureau staff: the token from POST /auth/token"},
            }},
            "security": [{"apiKey": []}, {"bearer": []}],
            "servers": [{"url": "/", "description": "This server"}],
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
    app.register_blueprint(docs.blp)
    app.register_blueprint(catalogue.blp)
    from claims.console import init_console

    init_console(app)
    return app
