"""Uploads are checked by parsing: a disguised ZIP is no workbook, a PDF with scripts or attachments is refused."""
from __future__ import annotations

import io
import zipfile

import openpyxl
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from tests.integration.test_concurrency import TODAY, ClaimFactory
from tests.helpers import blank_pdf, field_messages, problem, local_folder

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def zip_renamed_xlsx() -> bytes:
    """A plain ZIP archive (a text file inside), as any ZIP renamed .xlsx would be."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return out.getvalue()


def workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["还款记录", "2026-01-31", "100000.00"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pdf_with(**active) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if "js" in active:
        # What a hostile PDF carries: a JavaScript action run on open.
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(active["js"])})
    if "attachment" in active:
        writer.add_attachment("payload.exe", active["attachment"])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def upload(client, callers, claim_id: int, content: bytes, name: str):
    return client.post(f"/claims/{claim_id}/documents", headers=callers["BANK_A"].headers,
                       content_type="multipart/form-data",
                       data={"kind": "repayment_record", "file": (io.BytesIO(content), name)})


def test_a_zip_renamed_xlsx_and_pdfs_with_active_content_are_refused_and_real_files_kept(app, client, callers, db):
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("draft")
    db.commit()
    documents_dir = local_folder(app, "documents")
    body = problem(upload(client, callers, claim.id, zip_renamed_xlsx(), "还款记录.xlsx"), 415, "document_not_parseable")
    assert "not a readable .xlsx workbook" in body["detail"]
    scripted = problem(upload(client, callers, claim.id, pdf_with(js="app.alert('x');"), "申请表.pdf"), 422,
                       "document_active_content")
    assert "/JS" in field_messages(scripted)["file"] and "/JavaScript" in field_messages(scripted)["file"]
    attached = problem(upload(client, callers, claim.id, pdf_with(attachment=b"MZ\x90\x00"), "申请表.pdf"), 422,
                       "document_active_content")
    assert "/EmbeddedFiles" in field_messages(attached)["file"]
    problem(upload(client, callers, claim.id, b"%PDF-1.7\n" + b"\x00garbage" * 50, "broken.pdf"), 415,
            "document_not_parseable")
    # Nothing refused was kept, neither as a row nor as bytes.
    assert client.get(f"/claims/{claim.id}/documents", headers=callers["BANK_A"].headers).get_json() == []
    assert not documents_dir.exists() or not [p for p in documents_dir.rglob("*") if p.is_file()]
    for content, name, content_type in ((workbook(), "还款记录.xlsx", XLSX), (blank_pdf(), "申请表.pdf", "application/pdf")):
        stored = upload(client, callers, claim.id, content, name)
        assert stored.status_code == 201, stored.get_json()
        assert stored.get_json()["content_type"] == content_type
        served = client.get(f"/claims/{claim.id}/documents/{stored.get_json()['id']}",
                            headers=callers["BANK_A"].headers)
        assert served.data == content and served.mimetype == content_type
        assert served.headers["Content-Disposition"].startswith("attachment;")
        assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_zip_renamed_xlsx_is_refused_by_the_table_readers_too(client, callers):
    response = client.post("/loans/bulk", headers=callers["BANK_A"].headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(zip_renamed_xlsx()), "loans.xlsx")})
    assert "not a readable .xlsx workbook" in problem(response, 422, "xlsx_invalid")["detail"]


def test_hsts_is_sent_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/health").headers
    secure = client.get("/health", base_url="https://claims.example.gov.cn")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
