"""/docs (Swagger UI) and /redoc (ReDoc) render the whole API in a browser that cannot reach the internet."""
from __future__ import annotations

import html
import re

from tests.e2e.conftest import browse

CDN = re.compile(r"""(?:src|href)=["']https?://""")


def test_docs_pages_load_nothing_from_outside(docs_app):
    client = docs_app.test_client()
    for page in ("/docs", "/redoc"):
        text = client.get(page).get_data(as_text=True)
        assert not CDN.search(text), page
        for asset in re.findall(r"""(?:src|href)=["'](/docs/assets/[^"']+)""", text):
            assert client.get(asset).status_code == 200, asset
    assert client.get("/docs/assets/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/assets/redoc/redoc.standalone.js").status_code == 200


def test_swagger_ui_and_redoc_render_every_operation_offline(docs_app, docs_server, chromium, tmp_path):
    spec = docs_app.test_client().get("/openapi.json").get_json()
    operations = [op for item in spec["paths"].values() for method, op in item.items()
                  if method in ("get", "post", "put", "patch", "delete")]
    for page in ("docs", "redoc"):
        shot = tmp_path / f"{page}.png"
        dom = html.unescape(browse(chromium, f"{docs_server}/{page}", screenshot=str(shot)))
        assert "科技信贷风险补偿与贴息平台" in dom, page
        missing = [op["operationId"] for op in operations if op["summary"][:40] not in dom]
        assert not missing, (page, missing)
        assert shot.stat().st_size > 50_000, page  # a blank page is a few kB
        if page == "docs":
            assert all(op["operationId"] in dom for op in operations)  # displayOperationId shows each
