"""Swagger UI (/docs) and ReDoc (/redoc) served with no internet: their assets come from installed packages.

Swagger UI's files are those of the `swagger-ui-py` wheel (a pinned dependency); ReDoc's standalone bundle is
the npm package `redoc`, unpacked by `make assets` into `.assets/redoc/` (not in git; CLAIMS_ASSETS_DIR moves
it). flask-smorest renders both pages; this module only serves their scripts and styles from this host.
"""
from __future__ import annotations

import os
from pathlib import Path

import swagger_ui
from flask import Blueprint, abort, send_from_directory

from claims.settings import ROOT

SWAGGER_UI_DIR = Path(swagger_ui.__file__).with_name("static")
REDOC_VERSION = "2.5.4"
SWAGGER_UI_URL = "/docs/assets/swagger-ui/"
REDOC_URL = "/docs/assets/redoc/redoc.standalone.js"
DOCS_PATHS = ("/docs", "/redoc")
# The docs pages run their bundles' inline bootstrap and styles; everything else still comes from this host only.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
            "frame-ancestors 'none'")


def redoc_dir() -> Path:
    """Where `make assets` unpacked ReDoc."""
    return Path(os.environ.get("CLAIMS_ASSETS_DIR", ROOT / ".assets")) / "redoc"


def docs_config() -> dict:
    """flask-smorest settings for the two documentation pages."""
    return {"OPENAPI_SWAGGER_UI_PATH": "/docs", "OPENAPI_SWAGGER_UI_URL": SWAGGER_UI_URL,
            "OPENAPI_SWAGGER_UI_CONFIG": {"deepLinking": True, "displayOperationId": True,
                                          "defaultModelsExpandDepth": 0, "tryItOutEnabled": False},
            "OPENAPI_REDOC_PATH": "/redoc", "OPENAPI_REDOC_URL": REDOC_URL}


blp = Blueprint("docs_assets", __name__)


@blp.get("/docs/assets/swagger-ui/<path:name>")
def swagger_ui_asset(name: str):
    """A file of the installed Swagger UI bundle."""
    return send_from_directory(SWAGGER_UI_DIR, name, max_age=86400)


@blp.get("/docs/assets/redoc/<path:name>")
def redoc_asset(name: str):
    """A file of the ReDoc bundle unpacked from its npm package (404 until `make assets` ran)."""
    if not (redoc_dir() / name).is_file():
        abort(404)
    return send_from_directory(redoc_dir(), name, max_age=86400)
