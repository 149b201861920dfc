"""Problems a bank can act on: a code on every problem, errors[] by field, a catalogue that explains each code,
Chinese by default and English on request — with the same codes."""
from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from claims.api.catalogue import catalogue
from claims.api.problems import _HTTP_CODES
from tests.helpers import blank_pdf, field_codes, problem

ROOT = Path(__file__).resolve().parents[2]
PDF = blank_pdf()  # uploads are parsed: a real one-page PDF
_SOURCE_CODES = (r'code="([a-z0-9_]+)"',
                 r'code, title = (?:\d+, )?"([a-z0-9_]+)"', r'^    code = "([a-z0-9_]+)"$', r'Refusal\("([a-z0-9_]+)"',
                 r'(?:AmountError|IdentifierError)\(\s*"([a-z0-9_]+)"', r'problem_response\(\d+, "([a-z0-9_]+)"')


def source_codes() -> set[str]:
    """Every problem code the source can emit, read from the source itself."""
    found = set(_HTTP_CODES.values())
    for path in [*ROOT.glob("claims/**/*.py"), *ROOT.glob("workflows/**/*.py"), *ROOT.glob("reports/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        for pattern in _SOURCE_CODES:
            found.update(re.findall(pattern, text, re.M))
        if path.name == "eligibility.py":
            found.update(re.findall(r'^[A-Z_]+ = "([a-z_]+)"$', text, re.M))
        if path.name == "identifiers.py":
            found.update(f"{prefix}_{kind}" for prefix in ("uscc", "resident_id") for kind in ("type", "fullwidth"))
    return found


def test_every_code_the_source_emits_is_in_the_catalogue():
    entries = catalogue()
    missing = sorted(source_codes() - set(entries))
    assert not missing, f"add these codes to claims/api/error_catalogue.toml: {missing}"
    for entry in entries.values():
        assert all(entry.meaning.values()) and all(entry.action.values()), entry.code
        assert re.search(r"[\u4e00-\u9fff]", entry.meaning["zh"]), entry.code


def test_a_field_error_has_field_code_and_message_in_chinese_by_default(client, callers):
    body = problem(client.post("/loans", json={"program": "sz-sme-pool", "contract_no": "E-1", "principal": 100.5,
                                               "disbursed_on": "2026-01-20", "maturity_on": "2027-01-19",
                                               "colour": "red"}, headers=callers["BANK_A"].headers), 422)
    assert field_codes(body) == {"principal": ["amount_not_string"], "colour": ["unknown_field"]}
    by_field = {e["field"]: e["message"] for e in body["errors"]}
    assert by_field["principal"].startswith("金额须为字符串")
    assert body["title"] == "字段校验失败" and body["action"].startswith("按 errors[]")
    assert body["type"] == "/errors/validation_failed"


def test_english_when_the_client_prefers_it_with_identical_codes(client, callers):
    headers = callers["BANK_A"].with_(**{"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    body = problem(client.post("/loans", json={"program": "sz-sme-pool", "contract_no": "E-2", "principal": 100.5,
                                               "disbursed_on": "2026-01-20", "maturity_on": "2027-01-19"},
                               headers=headers), 422)
    assert field_codes(body) == {"principal": ["amount_not_string"]}
    assert body["title"] == "Some fields are invalid"
    assert not re.search(r"[\u4e00-\u9fff]", body["errors"][0]["message"])
    zh = problem(client.get("/loans/999999", headers=callers["BANK_A"].with_(**{"Accept-Language": "zh-CN"})), 404)
    en = problem(client.get("/loans/999999", headers=callers["BANK_A"].with_(**{"Accept-Language": "en"})), 404)
    assert zh["code"] == en["code"] == "not_found" and zh["title"] != en["title"]


def test_a_problem_type_resolves_to_its_catalogue_entry(client, callers):
    body = problem(client.get("/loans?status=bogus", headers=callers["BANK_A"].headers), 422)
    page = client.get(body["type"], headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<tr id="validation_failed">' in html and '<div class="selected"' in html
    top = html[html.index('<div class="selected"'):html.index("</div>")]
    assert "<code>validation_failed</code>" in top and "字段校验失败" in top and "按 errors[]" in top
    entry = client.get(body["type"], headers={"Accept": "application/json"}).get_json()
    assert entry["code"] == "validation_failed" and entry["meaning"]["en"] == "Some fields are invalid"
    listing = client.get("/errors", headers={"Accept": "application/json"}).get_json()
    assert {e["code"] for e in listing} == set(catalogue())
    assert client.get("/errors/no_such_code", headers={"Accept": "text/html"}).status_code == 404


def test_a_chinese_file_name_keeps_an_ascii_fallback(app, client, callers, db):
    from tests.api.test_claim_lifecycle import firm_on_no_list, pin_today, register

    firm = firm_on_no_list(db)[0]
    pin_today(app, date(2025, 6, 5))
    loan = register(client, callers["BANK_A"], contract_no="FN-1", enterprise_uscc=firm.uscc, principal="500000.00",
                    disbursed_on="2025-06-01", maturity_on="2026-05-31")
    reported = client.post(f"/loans/{loan['id']}/status", json={"status": "non_performing", "as_of": "2025-06-05",
                                                                "days_overdue": 120},
                           headers=callers["BANK_A"].with_(**{"If-Match": f'"{loan["version"]}"'}))
    assert reported.status_code == 200, reported.get_json()
    pin_today(app, date(2025, 12, 5))
    claim = client.post("/claims", json={"loan_id": loan["id"], "default_on": "2025-08-01",
                                         "outstanding_principal": "400000.00", "days_overdue": 120},
                        headers=callers["BANK_A"].headers)
    assert claim.status_code == 201, claim.get_json()
    uploaded = client.post(f"/claims/{claim.get_json()['id']}/documents", content_type="multipart/form-data",
                           data={"kind": "claim_form", "file": (io.BytesIO(PDF), "代偿申请表.pdf")},
                           headers=callers["BANK_A"].headers)
    assert uploaded.status_code == 201, uploaded.get_json()
    document = uploaded.get_json()
    download = client.get(f"/claims/{claim.get_json()['id']}/documents/{document['id']}",
                          headers=callers["BANK_A"].headers)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert f'filename="document-{document["id"]}.pdf"' in disposition
    assert "filename*=UTF-8''%E4%BB%A3%E5%81%BF%E7%94%B3%E8%AF%B7%E8%A1%A8.pdf" in disposition
