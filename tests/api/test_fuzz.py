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
import re
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
LEAK_MARKERS = ("Traceback", "File \"/", "sqlalchemy", "psycopg", "sqlite3", "INSERT INTO", "werkzeug")
# A statement, not a caller's "SELECT 1" quoted back in "No program SELECT 1.": it names a table.
SQL_LEAK = re.compile(r"\bSELECT\b.+\bFROM\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b", re.S)


def _caller_values(case) -> list[str]:
    """The strings the caller sent in the path, query and body: an error may quote them back (its instance)."""
    values = [*(case.path_parameters or {}).values(), *(case.query or {}).values()]
    stack = [case.body] if isinstance(case.body, (dict, list)) else []
    while stack:
        item = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        stack.extend(c for c in children if isinstance(c, (dict, list)))
        values.extend(c for c in children if isinstance(c, str))
    return sorted((str(v) for v in values if str(v)), key=len, reverse=True)


@schemathesis.check
def no_internals_in_errors(ctx, response, case):
    """An error body names no stack frame, SQL statement or library: those stay in the server log."""
    if response.status_code >= 400:
        text = response.text
        try:
            # The problem's instance is the request's own path (RFC 9457), whatever the caller put in it.
            text = json.dumps({k: v for k, v in json.loads(text).items() if k != "instance"}, ensure_ascii=False)
        except (ValueError, AttributeError):
            pass
        for value in _caller_values(case):
            # A path segment "SELECT 1" echoed as the problem's instance is the caller's text, not a leak.
            text = text.replace(value, "")
        leaked = [marker for marker in LEAK_MARKERS if marker in text] + SQL_LEAK.findall(text)
        assert not leaked, f"error body leaks {leaked}: {response.text[:300]}"
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
    # Credentials are the role's own (injected per test), never generated: a "negative" case that only broke the
    # Authorization header would turn positive once the real one is put back.
    "generation": {"max-examples": FUZZ_EXAMPLES, "deterministic": True, "database": "none", "mode": "all",
                   "with-security-parameters": False},
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
               "examples": sum(n for (db, _, _), n in RAN.items() if db == kind),
               "hostile": {what: n for (db, what), n in HOSTILE.items() if db == kind}}
    out = tmp_path_factory.getbasetemp() / f"fuzz-summary-{kind}.json"
    out.write_text(json.dumps(summary))
    print(f"\nfuzz summary: {summary}")
    ext["engine"].dispose()


@pytest.fixture
def fuzz_headers(fuzz_app) -> dict[str, dict[str, str]]:
    """Credentials per role: bank A's API key and a fresh token for each demo staff user.

    Fresh per test: a fuzzed POST /auth/logout or password change ends the session it was sent with.
    """
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


# Hostile bodies the generator does not make: nesting 5,000 deep, and a lone surrogate in every string field.
USER_FOR_ROLE = {"institution": "BANK_A", "admin": "admin", "reviewer": "reviewer1", "approver": "approver1",
                 "payer": "payer1", "auditor": "auditor1"}
HOSTILE: Counter = Counter()


def _kind(database_url: str) -> str:
    return "postgres" if database_url.startswith("postgresql") else "sqlite"


def _json_operations(spec: dict) -> list[tuple[str, str, dict]]:
    """(method, path with its parameters filled in, operation) for every operation that reads a JSON body."""
    found = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("post", "put", "patch") and "application/json" in op.get("requestBody", {}).get("content", {}):
                filled = path.replace("{code}", "sz-sme-pool").replace("{name}", "sla_sweep")
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "1", filled), op))
    return found


def _string_fields(spec: dict, schema: dict, prefix: str = "") -> list[tuple[str, dict]]:
    """Every string property of a request schema as (dotted path, the body that puts a lone surrogate there)."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    fields = []
    for name, prop in schema.get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        types = prop.get("type")
        types = types if isinstance(types, list) else [types]
        if "string" in types:
            fields.append((prefix + name, {name: "\ud800"}))
        elif "object" in types and "properties" not in prop:
            fields.append((prefix + name, {name: {"zone": "\udfff"}}))
    return fields


HOSTILE_OPERATIONS = _json_operations(schema.raw_schema)


@pytest.mark.parametrize("method,path,op", HOSTILE_OPERATIONS, ids=[f"{m} {p}" for m, p, _ in HOSTILE_OPERATIONS])
def test_hostile_json_is_refused_with_a_problem_never_a_5xx(method, path, op, fuzz_app, fuzz_headers, database_url):
    client = fuzz_app.test_client()
    roles = op.get("x-roles") or ["institution"]
    headers = {**fuzz_headers[USER_FOR_ROLE[roles[0]]], "Content-Type": "application/json"}
    for deep in ("[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000):
        answer = client.open(path, method=method, data=deep, headers=headers)
        assert answer.status_code == 400 and answer.get_json()["code"] == "json_too_deep", (path, answer.get_json())
        HOSTILE[(_kind(database_url), "nested_5000")] += 1
    body_schema = op["requestBody"]["content"]["application/json"]["schema"]
    for field, body in _string_fields(schema.raw_schema, body_schema):
        answer = client.open(path, method=method, data=json.dumps(body), headers=headers)
        problem_body = answer.get_json() or {}
        assert answer.status_code == 422 and problem_body.get("code") == "invalid_unicode", (path, field, problem_body)
        named = {e["field"] for e in problem_body["errors"]}
        assert named and all(f == field or f.startswith(field + ".") for f in named), (field, named)
        HOSTILE[(_kind(database_url), "lone_surrogate")] += 1
