"""Open reference data through the API: a program's own list with a revoked entry, a dated revenue attribute,
lists an admin declares, entries ended and revoked with history, attributes imported in bulk."""
from __future__ import annotations

import io
from datetime import date

from sqlmodel import select

from claims.models import AuditEvent, Institution
from tests.api.test_claim_lifecycle import firm_on_no_list, pin_today
from tests.helpers import problem
from tests.integration.test_rules_live import ROOT


def key_firm_program() -> str:
    """A city's key-firm pool: its own [[lists]] entry (+10 pp) and a prior-year revenue test (+5 pp)."""
    src = (ROOT / "config/programs/sz-sme-pool/2023.1.toml").read_text(encoding="utf-8").split("# Worked examples")[0]
    for old, new in (
            ('code = "sz-sme-pool"', 'code = "hz-key-firm-pool"'), ('version = "2023.1"', 'version = "2026.1"'),
            ('name = "深圳市中小微企业风险补偿资金池"', 'name = "测试市重点企业风险补偿资金池"'),
            ("effective_from = 2023-11-01             # 001 art. 六: in force 2023-11-01\n"
             "effective_to = 2028-10-31               # 001 art. 六: valid for 5 years", "effective_from = 2026-01-01"),
            ('when = { lists_any = ["high_tech", "tech_sme", "specialized", "little_giant", "innovative_sme"], '
             'list_on = "disbursement" }', 'when = { list = "hz-key-firm", list_on = "disbursement" }'),
            ('name = "strategic_emerging"\nlabel = "战略性新兴产业信贷项目名单"       # 000 art. 9\nadd = "0.05"     '
             '                       # assumed\nwhen = { lists_any = ["strategic_emerging"] }',
             'name = "small_revenue"\nlabel = "上一会计年度营业收入不超过2000万元"\nadd = "0.05"\n'
             'when = { firm = { name = "revenue", fiscal_year = "prior", at_most = "20000000.00" } }'),
            ('per_institution_year_share_of_registered = "0.05"', 'per_institution_year_share_of_registered = "0.50"'),
            ("\n[budget]", '\n[[lists]]\ncode = "hz-key-firm"\nlabel = "测试市重点企业名单"\nissuer = "测试市经济和信息化局"\n'
                           'valid_for_months = 12\n\n[budget]')):
        assert src.count(old) >= 1, old
        src = src.replace(old, new, 1)
    return src


def _publish(client, callers, source: str, code: str) -> None:
    proposed = client.post(f"/programs/{code}/versions", data=source.encode(),
                           headers=callers["admin"].with_(**{"Content-Type": "application/toml"}))
    assert proposed.status_code == 201, proposed.get_json()
    approved = client.post(f"/rule-changes/{proposed.get_json()['pending_change_id']}/approve", json={},
                           headers=callers["admin2"].headers)
    assert approved.get_json()["version_status"] == "live"


def _claim(client, bank, loan_id: int) -> dict:
    status = client.post(f"/loans/{loan_id}/status", json={"status": "non_performing", "as_of": "2026-09-30",
                                                           "days_overdue": 120},
                         headers={**bank.headers, "If-Match": '"1"'})
    assert status.status_code == 200, status.get_json()
    filed = client.post("/claims", json={"loan_id": loan_id, "default_on": "2026-06-01",
                                         "outstanding_principal": "1000000.00", "days_overdue": 120,
                                         "classification": "substandard"}, headers=bank.headers)
    assert filed.status_code == 201, filed.get_json()
    return filed.get_json()


def test_a_program_list_with_a_revoked_entry_and_a_dated_revenue_attribute_price_claims_to_the_fen(
        app, client, callers, db):
    admin, bank_a = callers["admin"], callers["BANK_A"]
    _publish(client, callers, key_firm_program(), "hz-key-firm-pool")
    lists = {c["code"]: c for c in client.get("/enterprise-categories", headers=bank_a.headers).get_json()}
    assert {k: lists["hz-key-firm"][k] for k in ("name", "issuer", "valid_for_months", "revocable", "declared_by")} \
        == {"name": "测试市重点企业名单", "issuer": "测试市经济和信息化局", "valid_for_months": 12, "revocable": True,
            "declared_by": "hz-key-firm-pool"}
    bank_id = db.exec(select(Institution.id).where(Institution.code == "BANK_A")).one()
    assert client.put(f"/programs/hz-key-firm-pool/admissions/{bank_id}", json={"status": "active", "reason": "准入"},
                      headers=admin.headers).status_code == 200
    key_firm, small_firm, plain = firm_on_no_list(db)[:3]

    # The list's validity rule: an entry lasts 12 months at most; with no end given, it ends then.
    problem(client.post(f"/enterprises/{key_firm.id}/memberships", json={
        "category": "hz-key-firm", "valid_from": "2026-01-01", "valid_to": "2027-06-30"}, headers=admin.headers),
        422, "validity_exceeded")
    entry = client.post(f"/enterprises/{key_firm.id}/memberships", json={
        "category": "hz-key-firm", "valid_from": "2026-01-01", "certificate_no": "HZ-2026-001"}, headers=admin.headers)
    assert (entry.status_code, entry.get_json()["valid_to"]) == (201, "2026-12-31"), entry.get_json()
    # Revenue of fiscal year 2025 recorded on the firm, in bulk like list memberships.
    upload = ("uscc,name,value,fiscal_year,source\n"
              f"{small_firm.uscc},revenue,15000000.00,2025,年报\n"
              f"{plain.uscc},revenue,25000000,2025,年报\n"
              f"{plain.uscc},revenue,1.234,2024,年报\n"
              f"{plain.uscc},zone,,2025,年报\n"
              f"{small_firm.uscc},revenue,15000000.00,2025,重复\n")
    report = client.post("/enterprise-attributes/import", data={"file": (io.BytesIO(upload.encode()), "rev.csv")},
                         headers=admin.headers, content_type="multipart/form-data").get_json()
    assert (report["accepted"], report["rejected"]) == (2, 3)
    assert [(r["row"], r["reasons"][0]["code"]) for r in report["rows"] if r["status"] == "rejected"] == [
        (4, "attribute_value_invalid"), (5, "attribute_value_invalid"), (6, "attribute_overlaps")]
    # Read by the bureau: a bank sees a firm's recorded facts only once it lends to it (least privilege, #15).
    detail = client.get(f"/enterprises/{small_firm.id}", headers=admin.headers).get_json()
    assert [(a["name"], a["value"], a["fiscal_year"]) for a in detail["attributes"]] == [("revenue", "15000000.00", 2025)]

    def loan(contract, firm, disbursed):
        response = client.post("/loans", json={
            "program": "hz-key-firm-pool", "contract_no": contract, "enterprise_uscc": firm.uscc,
            "principal": "2000000.00", "disbursed_on": disbursed, "maturity_on": "2027-02-01",
            "annual_rate": "0.0435"}, headers=bank_a.headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    pin_today(app, date(2026, 2, 10))
    on_list = loan("HZ-1", key_firm, "2026-02-05")
    revoked = client.post(f"/enterprises/{key_firm.id}/memberships/{entry.get_json()['id']}/revoke",
                          json={"revoked_on": "2026-03-01", "reason": "年度复核不合格，撤销认定"}, headers=admin.headers)
    assert revoked.get_json()["revoked_on"] == "2026-03-01"
    problem(client.post(f"/enterprises/{key_firm.id}/memberships/{entry.get_json()['id']}/end",
                        json={"valid_to": "2026-04-01", "reason": "x"}, headers=admin.headers), 409,
            "membership_revoked")
    pin_today(app, date(2026, 3, 20))
    after_revocation = loan("HZ-2", key_firm, "2026-03-15")
    small = loan("HZ-3", small_firm, "2026-03-15")
    big = loan("HZ-4", plain, "2026-03-16")

    pin_today(app, date(2026, 9, 30))
    claims = [_claim(client, bank_a, loan_id) for loan_id in (on_list, after_revocation, small, big)]
    # On the list at disbursement: 30 % + 10 pp = 40 %; disbursed after the revocation: 30 %; revenue of the
    # prior fiscal year 15,000,000.00 <= 20,000,000.00: 35 %; 25,000,000.00: 30 %. Each x 1,000,000.00.
    assert [(c["ratio"], c["computed_amount"]) for c in claims] == [
        ("0.40", "400000.00"), ("0.30", "300000.00"), ("0.35", "350000.00"), ("0.30", "300000.00")]
    # The membership's history: it stays on record, with its revocation.
    history = client.get(f"/enterprises/{key_firm.id}", headers=admin.headers).get_json()["memberships"]
    assert [(m["valid_from"], m["valid_to"], m["revoked_on"], m["revoke_reason"]) for m in history] == [
        ("2026-01-01", "2026-12-31", "2026-03-01", "年度复核不合格，撤销认定")]
    db.commit()
    assert [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.entity == "list_membership")
                                      .order_by(AuditEvent.seq))][-2:] == ["added", "revoked"]


def test_an_admin_declares_a_list_and_imports_ends_and_revokes_its_entries(app, client, callers, db):
    admin = callers["admin"]
    problem(client.post("/enterprise-categories", json={"code": "zone-a", "label": "A片区企业名单", "issuer": "A片区管委会"},
                        headers=callers["reviewer1"].headers), 403, "role_required")
    declared = client.post("/enterprise-categories", json={
        "code": "zone-a", "label": "A片区企业名单", "issuer": "A片区管委会", "revocable": False}, headers=admin.headers)
    assert (declared.status_code, declared.get_json()["declared_by"]) == (201, "admin")
    problem(client.post("/enterprise-categories", json={"code": "zone-a", "label": "again", "issuer": "again"},
                        headers=admin.headers), 409, "list_exists")
    firm, other = firm_on_no_list(db)[:2]
    rows = f"uscc,category,valid_from,valid_to\n{firm.uscc},zone-a,2026-01-01,\n{other.uscc},zone-b,2026-01-01,\n"
    report = client.post("/list-memberships/import", data={"file": (io.BytesIO(rows.encode()), "zone.csv")},
                         headers=admin.headers, content_type="multipart/form-data").get_json()
    assert (report["accepted"], report["rejected"]) == (1, 1)
    assert report["rows"][1]["reasons"][0]["code"] == "category_unknown"
    entry_id = report["rows"][0]["id"]
    on = {"category": "zone-a", "on": "2026-05-01"}
    assert [e["id"] for e in client.get("/enterprises", query_string=on, headers=admin.headers).get_json()] == [firm.id]
    # Not revocable: it can only be ended, and ending never extends it.
    problem(client.post(f"/enterprises/{firm.id}/memberships/{entry_id}/revoke", json={
        "revoked_on": "2026-03-01", "reason": "x"}, headers=admin.headers), 409, "list_not_revocable")
    ended = client.post(f"/enterprises/{firm.id}/memberships/{entry_id}/end", json={
        "valid_to": "2026-04-30", "reason": "迁出片区"}, headers=admin.headers)
    assert (ended.get_json()["valid_to"], ended.get_json()["end_reason"]) == ("2026-04-30", "迁出片区")
    problem(client.post(f"/enterprises/{firm.id}/memberships/{entry_id}/end", json={
        "valid_to": "2026-06-30", "reason": "x"}, headers=admin.headers), 422, "membership_extension")
    assert client.get("/enterprises", query_string=on, headers=admin.headers).get_json() == []
    assert [e["id"] for e in client.get("/enterprises", query_string={**on, "on": "2026-04-30"},
                                        headers=admin.headers).get_json()] == [firm.id]
