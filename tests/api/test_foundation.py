"""The HTTP conventions every endpoint shares: OpenAPI, problem+json, auth, tenant scope, audit."""
from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import Workbook

from tests.helpers import field_codes, problem


def test_openapi_is_version_3_1_and_documents_the_api(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    assert "/institutions" in spec["paths"]
    assert spec["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"


def test_docs_page_renders(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.data


def test_health_checks_the_database(client):
    body = client.get("/health").get_json()
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}


def test_unknown_route_is_a_problem(client):
    problem(client.get("/no-such-thing"), 404, "not_found")


def test_wrong_method_is_a_problem(client):
    problem(client.delete("/health"), 405, "method_not_allowed")


def test_missing_credentials_get_401(client):
    problem(client.get("/institutions"), 401, "credentials_required")


def test_malformed_json_is_a_problem(client, callers):
    response = client.post("/enterprises", data=b"{not json", headers=callers["BANK_A"].with_(**{
        "Content-Type": "application/json"}))
    problem(response, 400, "malformed_json")


def test_unknown_fields_are_refused(client, callers):
    response = client.post("/enterprises", json={"uscc": "91440300MA5G9TKX1W", "name": "示例公司", "colour": "red"},
                           headers=callers["BANK_A"].headers)
    body = problem(response, 422, "validation_failed")
    assert field_codes(body)["colour"] == ["unknown_field"]


def test_an_invalid_uscc_gets_422_naming_the_field(client, callers):
    response = client.post("/enterprises", json={"uscc": "91440300MA5G9TKX1X", "name": "示例错误代码公司"},
                           headers=callers["BANK_A"].headers)
    body = problem(response, 422, "validation_failed")
    assert field_codes(body) == {"uscc": ["uscc_check_digit"]}


def test_bank_a_cannot_see_bank_b(client, callers):
    bank_b = callers["BANK_B"].institution_id
    problem(client.get(f"/institutions/{bank_b}", headers=callers["BANK_A"].headers), 404, "not_found")
    listed = client.get("/institutions", headers=callers["BANK_A"].headers).get_json()
    assert [i["code"] for i in listed] == ["BANK_A"]


def test_a_revoked_key_gets_401(client, callers):
    key = callers["BANK_A"].headers["X-API-Key"]
    prefix = key.split("_")[1]
    response = client.delete(f"/institutions/keys/{prefix}", headers=callers["admin"].headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["revoked_at"]
    problem(client.get("/institutions", headers=callers["BANK_A"].headers), 401, "api_key_revoked")


def test_an_issued_key_works_once_shown(client, callers):
    bank_c = callers["BANK_C"].institution_id
    issued = client.post(f"/institutions/{bank_c}/keys", json={"label": "treasury"}, headers=callers["admin"].headers)
    assert issued.status_code == 201
    key = issued.get_json()["api_key"]
    listed = client.get("/institutions", headers={"X-API-Key": key}).get_json()
    assert [i["id"] for i in listed] == [bank_c]
    keys = client.get(f"/institutions/{bank_c}/keys", headers=callers["admin"].headers).get_json()
    assert all("api_key" not in k for k in keys)


def test_a_reviewer_cannot_do_admin_things(client, callers):
    response = client.post("/institutions", json={"code": "BANK_X", "kind": "bank", "name": "示例新银行",
                                                  "uscc": "91440300MA5G9TKX18"}, headers=callers["reviewer1"].headers)
    problem(response, 403, "role_required")


def test_staff_log_in_for_a_token_and_bad_passwords_get_401(client):
    ok = client.post("/auth/token", json={"username": "reviewer1", "password": "reviewer1-demo-pass"})
    assert ok.status_code == 200
    token = ok.get_json()["token"]
    assert client.get("/institutions", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    problem(client.post("/auth/token", json={"username": "reviewer1", "password": "wrong"}), 401,
            "invalid_credentials")


def test_an_expired_token_gets_401(app, client, db):
    from sqlmodel import select

    from claims.auth import issue_token
    from claims.models import User

    user = db.exec(select(User).where(User.username == "auditor1")).one()
    token = issue_token(db, user, access_ttl=-1)
    db.commit()
    problem(client.get("/institutions", headers={"Authorization": f"Bearer {token}"}), 401, "token_expired")


def test_audit_tampering_is_detected(client, callers, db):
    verified = client.get("/audit/verify", headers=callers["auditor1"].headers).get_json()
    assert verified["ok"] is True and verified["checked"] >= 1
    db.execute(sa.text("UPDATE audit_event SET data = :d WHERE seq = (SELECT MIN(seq) FROM audit_event)"),
               {"d": '{"added": {"institution": 99}}'})
    db.commit()
    broken = client.get("/audit/verify", headers=callers["auditor1"].headers).get_json()
    assert broken["ok"] is False
    first_seq = db.execute(sa.text("SELECT MIN(seq) FROM audit_event")).scalar()
    assert broken["first_broken_seq"] == first_seq
    assert broken["reason"] == "content does not match its hash"


def test_audit_verify_is_for_auditors(client, callers):
    problem(client.get("/audit/verify", headers=callers["BANK_A"].headers), 403, "role_required")


def _xlsx(rows) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["统一社会信用代码", "名单类别", "有效期起", "有效期止", "证书编号"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def test_an_xlsx_with_3_bad_rows_out_of_100_imports_97(client, callers, db):
    from sqlmodel import select

    from claims.models import Enterprise

    usccs = [e.uscc for e in db.exec(select(Enterprise).order_by(Enterprise.id))]
    rows = [[usccs[i % len(usccs)], "tech_sme", f"2030-{1 + i // 28:02d}-{1 + i % 28:02d}", "2030-12-31",
             f"TS-{i:04d}"] for i in range(100)]
    rows[10][0] = rows[10][0][:-1] + ("0" if rows[10][0][-1] != "0" else "1")  # bad check digit
    rows[50][1] = "no_such_list"
    rows[77][3] = "2029-01-01"  # ends before it starts
    response = client.post("/list-memberships/import", data={"file": (_xlsx(rows), "tech_sme.xlsx")},
                           headers=callers["admin"].headers, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert (report["accepted"], report["rejected"]) == (97, 3)
    rejected = {r["row"]: r["reasons"][0]["code"] for r in report["rows"] if r["status"] == "rejected"}
    # Spreadsheet row numbers: the header is row 1, so data row i is row i + 2.
    assert rejected == {12: "uscc_check_digit", 52: "category_unknown", 79: "period_inverted"}
