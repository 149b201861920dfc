"""Schema fuzzing: schemathesis drives every operation of our own /openapi.json with each role's credentials.

No request may end in a 5xx, and every response must match what the spec documents for it: status,
media type (problem+json for errors), body schema and headers. The operations come from the spec the
app serves, so a new endpoint is fuzzed without touching this file. Generation is seeded and
derandomised; the budget per operation and role is FUZZ_EXAMPLES (raise it locally with
CLAIMS_FUZZ_EXAMPLES=200 for a deeper run).
"""
from __future__ import annotations

import json
import os
from collections import Counter
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from sqlmodel import select

from claims.auth import issue_token
from claims.settings import load_settings

FUZZ_EXAMPLES = int(os.environ.get("CLAIMS_FUZZ_EXAMPLES", "8"))
SEED = 20260401
ROLES = ("BANK_A", "reviewer1", "approver1", "payer1", "admin", "auditor1")
LEAK_MARKERS = ("Traceback", "File \"/", "sqlalchemy", "psycopg", "sqlite3", "SELECT ", "INSERT INTO", "UPDATE ",
                "werkzeug")


@schemathesis.check
def no_internals_in_errors(ctx, response, case):
    """An error body names no stack frame, SQL statement or library: those stay in the server log."""
    if response.status_code >= 400:
        text = response.text
        leaked = [marker for marker in LEAK_MARKERS if marker in text]
        assert not leaked, f"error body leaks {leaked}: {text[:300]}"
    return None


CHECKS = [no_internals_in_errors, checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance, checks.negative_data_rejection]
RAN: Counter = Counter()


def _served_spec() -> dict:
    """The spec exactly as the app serves it (no database is touched to build it)."""
    from claims.app import create_app

    app = create_app(load_settings("test").with_overrides(database_url="sqlite://"))
    spec = app.test_client().get("/openapi.json").get_json()
    app.extensions["claims"]["engine"].dispose()
    return spec


CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"max-examples": FUZZ_EXAMPLES, "deterministic": True, "database": "none", "mode": "all"},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
})
schema = schemathesis.openapi.from_dict(_served_spec(), config=CONFIG)


@pytest.fixture(scope="module")
def fuzz_app(database_url, tmp_path_factory):
    """One application per database for the whole fuzz run, seeded with demo loans and claims in every state."""
    from claims.app import create_app
    from claims.db import unit_of_work
    from claims.services import demo, seeding
    from workflows.rules import load_programs
    from tests.conftest import _wipe

    s = load_settings("test").with_overrides(database_url=database_url, data_dir=tmp_path_factory.mktemp("fuzz"))
    application = create_app(s)
    ext = application.extensions["claims"]
    _wipe(ext["engine"])
    report = seeding.SeedReport()
    with unit_of_work(ext["sessions"]) as session:
        seeding.load_reference_data(session, report)
        seeding.sync_programs(session, load_programs(s.programs_dir), report)
        seeding.load_demo_access(session, report)
        seeding.load_demo_admissions(session, report)
        seeding.record_seeding(session, report)
    with unit_of_work(ext["sessions"]) as session:
        demo.load_demo_activity(session, ext["programs"], today=date(2026, 3, 2), settings=s)
    application.extensions["claims"]["today"] = date(2026, 3, 2)
    application.config["DEMO_KEYS"] = report.demo_keys
    yield application
    kind = "postgres" if database_url.startswith("postgresql") else "sqlite"
    summary = {"database": kind, "operations": len({op for (db, _, op) in RAN if db == kind}),
               "examples": sum(n for (db, _, _), n in RAN.items() if db == kind)}
    out = tmp_path_factory.getbasetemp() / f"fuzz-summary-{kind}.json"
    out.write_text(json.dumps(summary))
    print(f"\nfuzz summary: {summary}")
    ext["engine"].dispose()


@pytest.fixture(scope="module")
def fuzz_headers(fuzz_app) -> dict[str, dict[str, str]]:
    """Credentials per role: bank A's API key and a token for each demo staff user."""
    from claims.models import User

    ext = fuzz_app.extensions["claims"]
    headers = {"BANK_A": {"X-API-Key": fuzz_app.config["DEMO_KEYS"]["BANK_A"]}}
    with ext["sessions"]() as session:
        for user in session.exec(select(User)):
            headers[user.username] = {"Authorization": "Bearer " + issue_token(session, user)}
        session.commit()
    return headers


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_no_request_breaks_the_api_or_its_documented_contract(case, role, fuzz_app, fuzz_headers, database_url):
    kind = "postgres" if database_url.startswith("postgresql") else "sqlite"
    RAN[(kind, role, case.operation.label)] += 1
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("x-api-key", "authorization")}
    case.headers = headers
    case.call_and_validate(app=fuzz_app, headers=fuzz_headers[role], checks=CHECKS)
