"""Real headless Chromium against the app served on a free loopback port (Selenium, the OS's chromedriver).

Under CI (CI=true) a missing chromium or chromedriver fails these tests; elsewhere they are skipped
with the command that installs them (`make os-packages`).
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)
DRIVER = shutil.which("chromedriver")
SCREEN = (1366, 768)


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 with a free port, in a thread; its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    """A headless Chromium window of 1366×768."""
    if not (CHROMIUM and DRIVER):
        message = "chromium and chromium-driver are needed for the console's browser tests (make os-packages)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={SCREEN[0]},{SCREEN[1]}", "--lang=zh-CN", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_window_size(*SCREEN)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def screens(tmp_path, request):
    """Save a screenshot by name: the 1366×768 window, and the whole page beside it.

    Copies also go to $CONSOLE_SCREENSHOTS when set (the issue note's screenshots come from there).
    """
    target = Path(os.environ["CONSOLE_SCREENSHOTS"]) if os.environ.get("CONSOLE_SCREENSHOTS") else None
    database = "pg" if "postgres" in request.node.name else "sqlite"

    def shoot(driver, name: str) -> Path:
        import base64

        window = tmp_path / f"{name}.png"
        driver.save_screenshot(str(window))
        metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        height = int(metrics["cssContentSize"]["height"])
        full = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": SCREEN[0], "height": max(height, SCREEN[1]), "scale": 1}})
        (tmp_path / f"{name}-full.png").write_bytes(base64.b64decode(full["data"]))
        if target and database == "sqlite":
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(window, target / f"{name}.png")
            shutil.copy(tmp_path / f"{name}-full.png", target / f"{name}-full.png")
        assert window.stat().st_size > 10_000, f"screenshot {name} looks empty"
        return window

    return shoot
