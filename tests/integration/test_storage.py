"""The one Store, both backends: the local folder and a real S3-compatible server (moto in server mode)."""
from __future__ import annotations

import csv
import hashlib
import io
import shutil
import uuid
from datetime import date

import pytest
from sqlalchemy.orm import close_all_sessions

from claims.storage import (LocalStore, StoreCorrupt, StoreMissing, document_key, fetch, put_bytes, statement_key,
                            store_for)
from reports.periods import parse_period
from tests.api.test_bulk_registration import TODAY as BULK_TODAY
from tests.api.test_bulk_registration import build_file, plain_firms
from tests.api.test_bulk_registration import upload as bulk_upload
from tests.api.test_claim_lifecycle import pin_today
from tests.conftest import make_test_app
from tests.helpers import blank_pdf, problem
from tests.integration.statement_history import build_history
from tests.servers import MotoServer, need


@pytest.fixture(scope="module")
def moto():
    """One moto S3 server for the module; each test gets its own bucket."""
    with MotoServer() as server:
        yield server


@pytest.fixture
def s3_settings(moto):
    """Settings that point the store at a fresh bucket."""
    return moto.bucket(f"claims-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def app(database_url, tmp_path, demo_signing, s3_settings):
    """The test application with its files in S3 instead of under data_dir."""
    application = make_test_app(database_url, tmp_path, **s3_settings)
    yield application
    close_all_sessions()
    application.extensions["claims"]["engine"].dispose()


def _bucket_objects(app) -> dict[str, bytes]:
    store = store_for(app.extensions["claims"]["settings"])
    listed = store.client.list_objects_v2(Bucket=store.bucket).get("Contents", [])
    return {o["Key"]: store.client.get_object(Bucket=store.bucket, Key=o["Key"])["Body"].read() for o in listed}


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_each_store_keeps_whole_objects_and_checks_their_digest_on_read(backend, tmp_path, request):
    if backend == "local":
        store = LocalStore(tmp_path / "objects")
    else:
        from claims.settings import load_settings

        store = store_for(load_settings("test").with_overrides(**request.getfixturevalue("s3_settings")))
    data = b"%PDF-1.7\n" + bytes(range(256)) * 1000  # 256 kB: several read chunks
    sha = hashlib.sha256(data).hexdigest()
    assert not store.exists(document_key(sha))
    put_bytes(store, document_key(sha), data)
    assert store.exists(document_key(sha))
    with fetch(store, document_key(sha), sha256=sha) as got:
        assert hashlib.sha256(got.read()).hexdigest() == sha
    with pytest.raises(StoreCorrupt) as corrupt:
        fetch(store, document_key(sha), sha256="0" * 64)
    assert corrupt.value.code == "stored_file_corrupt"
    with pytest.raises(StoreMissing):
        fetch(store, statement_key("NONE-v1.pdf"))
    if backend == "local":
        with pytest.raises(ValueError):
            store.open("documents/../../etc/passwd")
        assert list((tmp_path / "objects" / ".staging").iterdir()) == []  # committed by rename, nothing left


def test_documents_statements_and_bulk_reports_live_in_the_bucket_and_nothing_under_data_dir(app, client, callers, db):
    build_history(app, client, callers, db, parse_period("2026Q3"))
    pin_today(app, date(2026, 10, 9))
    run = client.post("/jobs/period_statements/run", json={"period": "2026Q3"}, headers=callers["admin"].headers)
    assert run.status_code == 200 and run.get_json()["counts"]["created"] == 2, run.get_json()
    bank_a = callers["BANK_A"]
    objects = _bucket_objects(app)
    documents = {k: v for k, v in objects.items() if k.startswith("documents/")}
    assert documents and all(k == document_key(hashlib.sha256(v).hexdigest()) for k, v in documents.items())
    assert sorted(k for k in objects if k.startswith("statements/")) == [
        "statements/SZ-SME-POOL-2026Q3-ALL-v1.pdf", "statements/SZ-SME-POOL-2026Q3-BANK_A-v1.pdf"]
    data_dir = app.extensions["claims"]["settings"].data_dir
    assert not (data_dir / "documents").exists() and not (data_dir / "statements").exists()

    statement = client.get("/statements", headers=bank_a.headers).get_json()[0]
    pdf = client.get(f"/statements/{statement['id']}/pdf", headers=bank_a.headers)
    assert pdf.status_code == 200 and hashlib.sha256(pdf.data).hexdigest() == statement["sha256"]
    assert pdf.data == objects[statement_key(f"{statement['number']}.pdf")]
    verified = client.get(f"/statements/{statement['id']}/verify", headers=bank_a.headers).get_json()
    assert (verified["file_intact"], verified["content_current"], verified["ok"]) == (True, True, True)

    claim_id = client.get("/claims", headers=bank_a.headers).get_json()[0]["id"]
    listed = client.get(f"/claims/{claim_id}/documents", headers=bank_a.headers).get_json()
    assert listed
    served = client.get(f"/claims/{claim_id}/documents/{listed[0]['id']}", headers=bank_a.headers)
    assert served.status_code == 200 and hashlib.sha256(served.data).hexdigest() == listed[0]["sha256"]

    # Bytes altered in the bucket are refused on read, never served as the recorded document or statement.
    store = store_for(app.extensions["claims"]["settings"])
    store.client.put_object(Bucket=store.bucket, Key=document_key(listed[0]["sha256"]), Body=b"%PDF-1.7 altered")
    problem(client.get(f"/claims/{claim_id}/documents/{listed[0]['id']}", headers=bank_a.headers), 409,
            "stored_file_corrupt")
    key = statement_key(f"{statement['number']}.pdf")
    store.client.put_object(Bucket=store.bucket, Key=key, Body=pdf.data + b"%appended\n")
    problem(client.get(f"/statements/{statement['id']}/pdf", headers=bank_a.headers), 409, "stored_file_corrupt")
    altered = client.get(f"/statements/{statement['id']}/verify", headers=bank_a.headers).get_json()
    assert (altered["file_intact"], altered["ok"]) == (False, False)
    store.client.delete_object(Bucket=store.bucket, Key=key)
    problem(client.get(f"/statements/{statement['id']}/pdf", headers=bank_a.headers), 409, "statement_file_missing")

    app.extensions["claims"]["today"] = BULK_TODAY
    content, _, total = build_file(plain_firms(db))
    bulk = bulk_upload(client, bank_a, content).get_json()
    report = client.get(bulk["report_url"], headers=bank_a.headers)
    assert report.status_code == 200
    assert len(list(csv.reader(io.StringIO(report.get_data().decode("utf-8-sig"))))) == total + 1
    assert f"bulk-reports/loans-{bank_a.institution_id}-{bulk['report_id']}.csv" in _bucket_objects(app)
    assert not (data_dir / "bulk-reports").exists()


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_the_console_preview_draws_the_stored_pdf_and_keeps_only_a_local_cache(backend, tmp_path, request):
    need("poppler-utils (pdftoppm)", shutil.which("pdftoppm") is not None)  # under CI a failure, not a skip
    from claims.console.preview import first_page_png
    from claims.settings import load_settings

    overrides = request.getfixturevalue("s3_settings") if backend == "s3" else {}
    store = store_for(load_settings("test").with_overrides(data_dir=tmp_path / "var", **overrides))
    pdf = blank_pdf()
    sha = hashlib.sha256(pdf).hexdigest()
    put_bytes(store, document_key(sha), pdf)
    png = first_page_png(store, sha, tmp_path / "cache")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.parent == tmp_path / "cache"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [png.name]  # the scratch copy of the PDF is gone
    put_bytes(store, document_key("f" * 64), pdf)  # bytes that are not the digest they are filed under
    with pytest.raises(StoreCorrupt):
        first_page_png(store, "f" * 64, tmp_path / "cache")


def test_settings_choose_the_store_and_refuse_s3_without_a_bucket(monkeypatch):
    from claims.settings import SettingsError, load_settings
    from claims.storage import S3Store

    assert isinstance(store_for(load_settings("test")), LocalStore)
    monkeypatch.setenv("CLAIMS_STORAGE", "s3")
    with pytest.raises(SettingsError, match="s3_bucket"):
        load_settings("test")
    monkeypatch.setenv("CLAIMS_S3_BUCKET", "claims-files")
    monkeypatch.setenv("CLAIMS_S3_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/0")
    settings = load_settings("test")
    assert (settings.storage, settings.s3_bucket, settings.redis_url) == ("s3", "claims-files", "redis://127.0.0.1:6390/0")
    store = store_for(settings)
    assert isinstance(store, S3Store) and store.bucket == "claims-files"
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9"
    monkeypatch.setenv("CLAIMS_STORAGE", "ftp")
    with pytest.raises(SettingsError, match="storage must be"):
        load_settings("test")
