"""Evidence over HTTP: a submission refused until the program's documents are attached, returns that ask for
new ones, and subsidy applications that carry their payment vouchers end to end."""
from __future__ import annotations

import io
from datetime import date

from sqlmodel import select

from claims.models import Document, DocumentRequest
from tests.api.test_claim_lifecycle import act, firm_on_no_list, pin_today, register
from tests.api.test_subsidies import REVIEW, apply, listed_firms, step
from tests.helpers import PDF, field_messages, problem

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(client, caller, owners, subject_id, kind, content=PDF, name="scan.pdf"):
    response = client.post(f"/{owners}/{subject_id}/documents", headers=caller.headers,
                           data={"kind": kind, "file": (io.BytesIO(content), name)}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_interest_subsidy_needs_its_four_documents_and_a_return_can_ask_for_a_new_voucher(app, client, callers, db):
    bank_a = callers["BANK_A"]
    firm = listed_firms(db, date(2024, 10, 10))[0]
    pin_today(app, date(2024, 3, 20))
    loan = register(client, bank_a, contract_no="EV-TI-1", enterprise_uscc=firm.uscc, principal="2000000.00",
                    disbursed_on="2024-03-15", maturity_on="2025-03-14", annual_rate="0.0600", first_loan=True)
    pin_today(app, date(2024, 10, 10))
    application = apply(client, bank_a, program="sz-tech-interest", loan_id=loan["id"], period_start="2024-07-01",
                        period_end="2024-09-30", basis="30163.93")
    checklist = application["documents"]
    assert [(i["kinds"], i["label"], i["required"], i["present"], i["missing"]) for i in checklist["items"]] == [
        (["application_form"], "申请表", 1, 0, 1), (["loan_contract"], "借款合同", 1, 0, 1),
        (["disbursement_record"], "放款凭证", 1, 0, 1),
        (["interest_voucher"], "利息支付凭证（银行回单或结息单）", 1, 0, 1)]
    for kind in ("application_form", "loan_contract", "disbursement_record"):
        upload(client, bank_a, "applications", application["id"], kind)

    # Three of four: the submission is refused, naming the fourth, and nothing moves.
    body = problem(client.post(f"/applications/{application['id']}/transitions", json={"action": "submit"},
                               headers=bank_a.with_(**{"If-Match": f'"{application["version"]}"'})), 422,
                   "documents_missing")
    assert [m["kinds"] for m in body["missing"]] == [["interest_voucher"]]
    assert "利息支付凭证（银行回单或结息单） (interest_voucher): 缺 1 份" in field_messages(body)["documents"]
    assert "利息支付凭证" in body["detail"]
    assert client.get(f"/applications/{application['id']}", headers=bank_a.headers).get_json()["status"] == "draft"

    voucher = upload(client, bank_a, "applications", application["id"], "interest_voucher", PNG, "回单.png")
    assert (voucher["content_type"], voucher["filename"]) == ("image/png", "回单.png")
    application = client.get(f"/applications/{application['id']}", headers=bank_a.headers).get_json()
    assert application["documents"]["complete"] and application["documents"]["missing"] == []
    application = step(client, bank_a, application, "submit")
    application = step(client, callers["reviewer1"], application, "start_review")
    # The reviewer returns it: the voucher is illegible, a new one is asked for.
    application = step(client, callers["reviewer1"], application, "return", reason="利息回单模糊，请重新上传",
                       documents_requested=[{"kind": "interest_voucher", "note": "清晰的银行结息回单"}])
    assert application["documents"]["missing"] == [{
        "kinds": ["interest_voucher"], "label": "利息支付凭证", "required": 1, "present": 0, "missing": 1,
        "source": "return", "note": "清晰的银行结息回单"}]
    problem(client.post(f"/applications/{application['id']}/transitions", json={"action": "resubmit"},
                        headers=bank_a.with_(**{"If-Match": f'"{application["version"]}"'})), 422, "documents_missing")
    upload(client, bank_a, "applications", application["id"], "interest_voucher", name="结息回单.pdf")
    application = step(client, bank_a, application, "resubmit")
    for who, action in REVIEW[1:]:
        application = step(client, callers[who], application, action)
    assert (application["status"], application["paid_amount"]) == ("paid", "17419.67")
    files = client.get(f"/applications/{application['id']}/documents", headers=bank_a.headers).get_json()
    assert [f["kind"] for f in files] == ["application_form", "loan_contract", "disbursement_record",
                                          "interest_voucher", "interest_voucher"]
    download = client.get(f"/applications/{application['id']}/documents/{voucher['id']}", headers=bank_a.headers)
    assert (download.status_code, download.mimetype, download.data) == (200, "image/png", PNG)
    # Another bank sees none of it; documents cannot be added once the application is paid.
    problem(client.get(f"/applications/{application['id']}/documents", headers=callers["BANK_B"].headers), 404)
    problem(client.post(f"/applications/{application['id']}/documents", headers=bank_a.headers,
                        data={"kind": "other", "file": (io.BytesIO(PDF), "x.pdf")},
                        content_type="multipart/form-data"), 409, "application_not_editable")
    db.commit()
    assert [r.status for r in db.exec(select(DocumentRequest))] == ["fulfilled"]


def test_a_declared_lawsuit_needs_court_papers_and_a_return_can_ask_for_a_new_one(app, client, callers, db):
    bank_a, reviewer = callers["BANK_A"], callers["reviewer1"]
    pin_today(app, date(2026, 2, 1))
    loan = register(client, bank_a, contract_no="EV-CL-1", enterprise_uscc=firm_on_no_list(db)[5].uscc,
                    principal="800000.00", disbursed_on="2026-01-20", maturity_on="2027-01-19")
    pin_today(app, date(2026, 9, 30))
    client.post(f"/loans/{loan['id']}/status", json={"status": "overdue", "as_of": "2026-09-30", "days_overdue": 100},
                headers={**bank_a.headers, "If-Match": '"1"'})
    claim = client.post("/claims", json={"loan_id": loan["id"], "default_on": "2026-06-15",
                                         "outstanding_principal": "600000.00"}, headers=bank_a.headers).get_json()
    assert len(claim["documents"]["items"]) == 6  # no lawsuit declared: no court papers asked
    for kind in ("claim_form", "collection_statement", "no_negligence", "loan_contract", "disbursement_record",
                 "repayment_record"):
        upload(client, bank_a, "claims", claim["id"], kind)
    # Declaring the lawsuit adds the court papers to the checklist: six of seven is refused, naming the seventh.
    corrected = client.patch(f"/claims/{claim['id']}", json={"lawsuit_accepted_on": "2026-08-20"},
                             headers=bank_a.with_(**{"If-Match": f'"{claim["version"]}"'}))
    assert corrected.status_code == 200, corrected.get_json()
    claim = corrected.get_json()
    assert claim["lawsuit_accepted_on"] == "2026-08-20"
    assert [i["kinds"] for i in claim["documents"]["missing"]] == [["court_document"]]
    body = problem(client.post(f"/claims/{claim['id']}/transitions", json={"action": "submit"},
                               headers=bank_a.with_(**{"If-Match": f'"{claim["version"]}"'})), 422, "documents_missing")
    assert "法院受理或判决文书 (court_document): 缺 1 份" in field_messages(body)["documents"]
    upload(client, bank_a, "claims", claim["id"], "court_document", name="受理通知书.pdf")
    claim = act(client, bank_a, claim, "submit")
    claim = act(client, reviewer, claim, "start_review")
    # Only a return may ask for documents.
    problem(client.post(f"/claims/{claim['id']}/transitions", headers=reviewer.with_(**{"If-Match": f'"{claim["version"]}"'}),
                        json={"action": "pass", "documents_requested": [{"kind": "court_document"}]}), 422,
            "documents_requested_not_allowed")
    claim = act(client, reviewer, claim, "return", reason="请补充法院判决书",
                documents_requested=[{"kind": "court_document", "note": "民事判决书（生效）"}])
    # The acceptance notice already on file does not count for the new request.
    assert [(i["kinds"], i["source"], i["present"], i["missing"]) for i in claim["documents"]["items"][-2:]] == [
        (["court_document"], "program", 1, 0), (["court_document"], "return", 0, 1)]
    problem(client.post(f"/claims/{claim['id']}/transitions", json={"action": "resubmit"},
                        headers=bank_a.with_(**{"If-Match": f'"{claim["version"]}"'})), 422, "documents_missing")
    upload(client, bank_a, "claims", claim["id"], "court_document", name="判决书.pdf")
    claim = act(client, bank_a, claim, "resubmit")
    assert claim["status"] == "first_review" and claim["documents"]["complete"]
    assert len(claim["documents"]["items"]) == 7  # the fulfilled request leaves the checklist
    db.commit()
    assert db.exec(select(Document).where(Document.owner_type == "claim", Document.owner_id == claim["id"],
                                          Document.kind == "court_document")).all().__len__() == 2
