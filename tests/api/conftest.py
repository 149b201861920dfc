"""Every API test runs with its log captured; a test whose log shows a USCC or resident id in clear fails.

The captured lines are also kept in var/test-logs/api-<worker>.log, the log of the whole API suite.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from workflows.identifiers import IdentifierError, validate_resident_id, validate_uscc

LOG_DIR = Path(__file__).resolve().parents[2] / "var" / "test-logs"
CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")


def identifiers_in_clear(text: str) -> list[str]:
    """Every 18-character token of the text that is a valid USCC or resident id (check digit included)."""
    found = []
    for token in CANDIDATE.findall(text):
        for check in (validate_uscc, validate_resident_id):
            try:
                check(token)
            except (IdentifierError, ValueError):
                continue
            found.append(token)
            break
    return found


class Capture(logging.Handler):
    """Keeps the formatted lines of one test."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def log_without_identifiers(request):
    """Capture the test's log (INFO and up, the request lines included) and refuse identifiers in clear."""
    root, capture = logging.getLogger(), Capture()
    level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / f"api-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log", "a", encoding="utf-8") as fh:
        fh.write(f"# {request.node.nodeid}\n" + "".join(line + "\n" for line in capture.lines))
    leaked = identifiers_in_clear("\n".join(capture.lines))
    assert not leaked, f"identifiers in clear in the log of {request.node.nodeid}: {leaked[:5]}"
