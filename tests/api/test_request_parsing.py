"""Hostile JSON meets one parser: deep nesting is 400 json_too_deep, a lone surrogate 422 naming its field."""
from __future__ import annotations

import pytest

from claims.api.parsing import MAX_JSON_DEPTH
from tests.helpers import field_codes, problem

LOAN = ('{"program": "sz-sme-pool", "contract_no": %s, "principal": "1000.00", "disbursed_on": "2026-01-20", '
        '"maturity_on": "2027-01-19", "attributes": %s}')


def _post(client, caller, path, text, content_type="application/json"):
    return client.post(path, data=text.encode(), content_type=content_type, headers=caller.headers)


@pytest.mark.parametrize("body", ["[" * 5000 + "]" * 5000, "{\"a\":" * 5000 + "1" + "}" * 5000,
                                  LOAN % ('"D-1"', "{\"x\": " * 5000 + "1" + "}" * 5000)])
def test_json_nested_5000_deep_is_refused_before_parsing(client, callers, body):
    answer = problem(_post(client, callers["BANK_A"], "/loans", body), 400, "json_too_deep")
    assert answer["type"] == "/errors/json_too_deep"
    admin = problem(_post(client, callers["admin"], "/programs/sz-sme-pool/versions", body), 400, "json_too_deep")
    assert admin["status"] == 400


def test_nesting_up_to_the_limit_reaches_validation(client, callers):
    nested = "[" * (MAX_JSON_DEPTH - 2) + "]" * (MAX_JSON_DEPTH - 2)
    body = problem(_post(client, callers["BANK_A"], "/loans", LOAN % ('"D-2"', '{"x": %s}' % nested)), 422)
    assert set(field_codes(body)) == {"attributes"}
    # Brackets inside strings are text, not nesting.
    text = '"' + "[" * 5000 + '"'
    body = problem(_post(client, callers["BANK_A"], "/loans", LOAN % (text, "{}")), 422)
    assert "contract_no" in field_codes(body)


@pytest.mark.parametrize("field,body", [
    ("contract_no", LOAN % ('"A\\ud800"', "{}")),
    ("attributes.zone", LOAN % ('"D-3"', '{"zone": "\\udfff"}')),
    ("attributes", LOAN % ('"D-4"', '{"\\ud800": "x"}')),
])
def test_a_lone_surrogate_is_422_naming_the_field(client, callers, field, body):
    answer = problem(_post(client, callers["BANK_A"], "/loans", body), 422, "invalid_unicode")
    assert field_codes(answer) == {field: ["invalid_unicode"]}


def test_a_surrogate_pair_is_ordinary_text(client, callers):
    # "\ud83d\ude00" is one character (😀): valid Unicode, so the request reaches the schema and the rules.
    answer = _post(client, callers["BANK_A"], "/loans", LOAN % ('"E-\\ud83d\\ude00"', "{}"))
    assert answer.status_code != 500 and (answer.get_json() or {}).get("code") != "invalid_unicode"
