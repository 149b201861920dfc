"""A served instance for end-to-end tests: the app on a real HTTP port (127.0.0.1, a free one), and a browser."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading

import pytest
from werkzeug.serving import make_server


def serve(app):
    """Serve the app over HTTP from a thread; yields its base URL, stops at exit."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    """The test app (seeded, on each database) served over HTTP; yields its base URL."""
    yield from serve(app)


@pytest.fixture(scope="module")
def docs_app():
    """An app for pages that read no data (the docs): no database behind it."""
    from claims.app import create_app
    from claims.settings import load_settings

    application = create_app(load_settings("test").with_overrides(database_url="sqlite://"))
    yield application
    application.extensions["claims"]["engine"].dispose()


@pytest.fixture(scope="module")
def docs_server(docs_app):
    """The docs app served over HTTP."""
    yield from serve(docs_app)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The headless Chromium binary (the Makefile's os-packages installs it; CI fails without it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("CI needs chromium (make os-packages installs it)")
        pytest.skip("chromium is not installed")
    return found


def browse(chromium: str, url: str, *, screenshot: str | None = None, height: int = 2400) -> str:
    """The page's DOM after its scripts ran, with every host but 127.0.0.1 unreachable (no internet)."""
    args = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1", f"--window-size=1366,{height}",
            "--virtual-time-budget=20000"]
    if screenshot:
        subprocess.run([*args, f"--screenshot={screenshot}", url], capture_output=True, timeout=120, check=True)
    done = subprocess.run([*args, "--dump-dom", url], capture_output=True, timeout=120, check=True, text=True)
    return done.stdout
