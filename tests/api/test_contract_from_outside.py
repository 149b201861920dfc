"""What schemathesis found from outside the process (tests/contract/run_schemathesis.sh), pinned in the suite.

The wrong role is told 403 before its body is looked at; a JSON body's numbers, booleans and ratios are read as
the contract states them, no looser (7.0 is the integer 7, 0 is not false, "3e-2" is not a rate); a payee
account number is refused with the code the catalogue names when it has anything but digits and spaces.
"""
from __future__ import annotations

from tests.helpers import field_codes, problem


def test_a_role_not_allowed_is_403_before_the_body_is_read(client, callers):
    body = problem(client.post("/lpr", json={"effective_on": "not a date"}, headers=callers["BANK_A"].headers),
                   403, "role_required")
    assert "admin" in body["detail"] and "errors" not in body
    problem(client.post("/users", json={}, headers=callers["reviewer1"].headers), 403, "role_required")
    problem(client.post("/webhooks/endpoints", json={"url": 5}, headers=callers["admin"].headers), 403,
            "institution_only")


def test_a_whole_number_with_a_fraction_is_that_integer_and_a_fraction_is_refused(client, callers):
    admin = callers["admin"].headers
    made = client.post("/enterprises/1/attributes", json={"name": "revenue", "value": "1000000.00",
                                                          "fiscal_year": 2001.0}, headers=admin)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["fiscal_year"] == 2001
    refused = problem(client.post("/enterprises/1/attributes", json={"name": "revenue", "value": "1.00",
                                                                     "fiscal_year": 2002.5}, headers=admin), 422)
    assert field_codes(refused) == {"fiscal_year": ["invalid_type"]}


def test_a_json_boolean_is_true_or_false(client, callers):
    admin = callers["admin"].headers
    category = {"code": "outside-1", "label": "外部测试名单", "issuer": "外部测试"}
    for wrong in (0, 1, "true", "yes"):
        refused = problem(client.post("/enterprise-categories", json={**category, "revocable": wrong}, headers=admin),
                          422, "validation_failed")
        assert field_codes(refused) == {"revocable": ["invalid_type"]}, (wrong, refused)
    made = client.post("/enterprise-categories", json={**category, "revocable": True}, headers=admin)
    assert made.status_code == 201 and made.get_json()["revocable"] is True, made.get_json()


def test_a_ratio_is_a_plain_decimal_between_0_and_1(client, callers):
    admin = callers["admin"].headers
    for wrong in ("3e-2", " 0.03", "0_03", "", "+0.03", "1.5", ".03"):
        refused = problem(client.post("/lpr", json={"effective_on": "2031-01-20", "one_year": wrong,
                                                    "five_year": "0.0350"}, headers=admin), 422)
        assert set(field_codes(refused)) == {"one_year"}, (wrong, refused)
    made = client.post("/lpr", json={"effective_on": "2031-01-20", "one_year": "0.0300", "five_year": "0.0350"},
                       headers=admin)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["one_year"] == "0.0300"


def test_a_payee_account_number_is_digits_and_spaces_only(client, callers):
    admin = callers["admin"].headers
    bank_c = callers["BANK_C"].institution_id
    account = {"account_name": "示例银行", "bank_name": "示例银行营业部"}
    for wrong in ("12345678\n", "0", "6222-0210-0104"):
        refused = problem(client.put(f"/payments/payees/{bank_c}", json={**account, "account_no": wrong},
                                     headers=admin), 422, "payee_account_invalid")
        assert set(field_codes(refused)) == {"account_no"}
    saved = client.put(f"/payments/payees/{bank_c}", json={**account, "account_no": "6222 0210 0104 5678 901"},
                       headers=admin)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["account_no"] == "****8901"  # masked; the spaces were dropped before it was stored
