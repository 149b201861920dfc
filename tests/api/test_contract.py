"""The OpenAPI contract as a bank's engineer reads it: valid 3.1, one operationId each, roles and security that
match the access matrix, the headers and error responses the service really sends."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from tests.api.test_access_matrix import BANKS, POLICY, PUBLIC, SCOPED
from tests.helpers import field_codes, problem

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec():
    from claims.app import create_app
    from claims.settings import load_settings

    app = create_app(load_settings("test").with_overrides(database_url="sqlite://"))
    document = app.test_client().get("/openapi.json").get_json()
    app.extensions["claims"]["engine"].dispose()
    return document


def operations(spec):
    return [(f"{m.upper()} {p}", op) for p, item in spec["paths"].items() for m, op in item.items() if m in METHODS]


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # raises on any violation of the 3.1 schema
    assert not [p for _, op in operations(spec) for p in op.get("parameters", []) if p.get("in") == "formData"]


def test_every_operation_has_a_stable_unique_operation_id(spec):
    ids = [op["operationId"] for _, op in operations(spec)]
    assert len(ids) == len(set(ids)) == len(POLICY)
    by_name = {name: op["operationId"] for name, op in operations(spec)}
    assert by_name["POST /claims/{claim_id}/transitions"] == "post_claim_transitions"
    assert by_name["POST /programs/{code}/admissions/{institution_id}/lift"] == "post_admission_lift"


def test_roles_and_security_are_those_the_access_matrix_enforces(spec):
    wrong = []
    for name, op in operations(spec):
        allowed = POLICY[name].allowed
        assert "x-roles" in op or allowed == PUBLIC, f"{name} declares no x-roles (add @allow)"
        if allowed == PUBLIC:
            assert op["security"] == [] and "x-roles" not in op, name
            continue
        # The program-scoped reviewer is a reviewer with a narrower grant, not a role of its own.
        expected = {"institution" if r in BANKS else r for r in allowed if r != SCOPED}
        if set(op["x-roles"]) != expected:
            wrong.append((name, sorted(op["x-roles"]), sorted(expected)))
        schemes = {scheme for requirement in op["security"] for scheme in requirement}
        assert schemes == ({"apiKey"} if "institution" in expected else set()) | (
            {"bearer"} if expected - {"institution"} else set()), name
        assert "可调用角色 Roles:" in op["description"], name
    assert not wrong, wrong


def test_errors_are_declared_with_the_problem_schema_and_headers(spec):
    for name, op in operations(spec):
        responses = op["responses"]
        method, path = name.split(" ", 1)
        expected = {"503"} | ({"401", "429"} if op["security"] else set()) | ({"404"} if "{" in path else set())
        assert expected <= set(responses), (name, sorted(responses))
        for status, response in responses.items():
            if status.startswith("2"):
                assert "X-Request-Id" in response["headers"], name
    problem_response = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]
    assert problem_response["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    field_error = spec["components"]["schemas"]["FieldError"]
    assert set(field_error["required"]) == {"field", "code", "message"}
    ops = dict(operations(spec))
    transition = ops["POST /claims/{claim_id}/transitions"]
    headers = {p.get("$ref", "").rsplit("/", 1)[-1] for p in transition["parameters"]}
    assert {"IfMatch", "IdempotencyKey", "RequestId"} <= headers
    assert {"412", "428", "409"} <= set(transition["responses"])
    assert "Idempotent-Replayed" in ops["POST /loans"]["responses"]["201"]["headers"]
    assert "ETag" in ops["GET /loans/{loan_id}"]["responses"]["200"]["headers"]
    assert "429" in ops["GET /loans"]["responses"] and "X-RateLimit-Remaining" in ops["GET /loans"]["responses"]["200"]["headers"]
    assert "Retry-After" in spec["components"]["responses"]["TOO_MANY_REQUESTS"]["headers"]


def test_states_actions_and_kinds_are_enums(spec):
    schemas = spec["components"]["schemas"]
    assert "approve" in schemas["Transition"]["properties"]["action"]["enum"]
    assert "second_review" in schemas["Claim"]["properties"]["status"]["enum"]
    assert "non_performing" in schemas["Loan"]["properties"]["status"]["enum"]
    assert "claim_form" in schemas["DocumentUpload"]["properties"]["kind"]["enum"]
    claims_status = next(p for p in dict(operations(spec))["GET /claims"]["parameters"] if p.get("name") == "status")
    assert "paid" in claims_status["schema"]["items"]["enum"]


def test_examples_and_patterns_say_what_the_service_does(spec):
    from claims.api.uploads import attachment  # noqa: F401  (the download helper the next test exercises)
    from workflows.identifiers import validate_resident_id, validate_uscc

    schemas = spec["components"]["schemas"]
    net = schemas["StatementTotals"]["properties"]["net"]
    assert re.fullmatch(net["pattern"], "-1200.00") and re.fullmatch(net["pattern"], net["example"])
    create = schemas["LoanCreate"]["properties"]
    assert validate_uscc(create["enterprise_uscc"]["example"]) == "91440305MA1UPTX283"  # a seeded firm
    assert validate_resident_id(create["resident_id"]["example"])
    assert create["unsecured_share"]["example"] == "1"
    ops = dict(operations(spec))
    assert "application/pdf" in ops["GET /statements/{statement_id}/pdf"]["responses"]["200"]["content"]
    download = ops["GET /claims/{claim_id}/documents/{document_id}"]["responses"]["200"]["content"]
    assert "application/octet-stream" not in download and "application/pdf" in download
    upload = ops["POST /claims/{claim_id}/documents"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"] == {"$ref": "#/components/schemas/DocumentUpload"}


def test_an_unknown_state_filter_is_refused_like_loans(client, callers):
    for path, field in (("/claims?status=bogus", "status[0]"), ("/claims?status=submitted,bogus", "status[1]"),
                        ("/applications?status=bogus", "status[0]"), ("/loans?status=bogus", "status")):
        body = problem(client.get(path, headers=callers["BANK_A"].headers), 422, "validation_failed")
        assert field_codes(body) == {field: ["not_allowed"]}, body
    assert client.get("/claims?status=submitted,first_review", headers=callers["BANK_A"].headers).status_code == 200


def test_405_names_the_allowed_methods(client, callers):
    response = client.delete("/loans", headers=callers["BANK_A"].headers)
    body = problem(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert body["type"] == "/errors/method_not_allowed"


def test_retry_after_only_on_429_and_503(app, client, callers):
    ok = client.get("/loans", headers=callers["BANK_A"].headers)
    assert ok.status_code == 200 and "Retry-After" not in ok.headers and "X-RateLimit-Remaining" in ok.headers


def test_every_response_carries_a_request_id(client, callers):
    mine = client.get("/loans", headers=callers["BANK_A"].with_(**{"X-Request-Id": "bank-a-nightly-0001"}))
    assert mine.headers["X-Request-Id"] == "bank-a-nightly-0001"
    generated = client.get("/loans/999999", headers=callers["BANK_A"].headers)
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-Id"])
    assert problem(generated, 404)["request_id"] == generated.headers["X-Request-Id"]
    assert "X-Request-Id" in client.get("/health").headers
    hostile = client.get("/health", headers={"X-Request-Id": "x" * 500})
    assert len(hostile.headers["X-Request-Id"]) == 32


def test_log_lines_of_a_request_carry_its_id(app, caplog):
    import logging

    from claims.api.context import RequestIdFilter

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING):
        app.logger.warning("outside")
    with app.test_request_context(headers={"X-Request-Id": "trace-78"}):
        from claims.api.context import request_id

        request_id()
        logging.getLogger("claims.test").warning("inside a request")
    assert [r.request_id for r in caplog.records if r.getMessage() == "inside a request"] == ["trace-78"]
    assert [r.request_id for r in caplog.records if r.getMessage() == "outside"] == ["-"]
