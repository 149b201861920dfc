"""Several instances, one system: two gunicorn instances and a scheduler process over one PostgreSQL schema, one
S3-compatible object store (moto in server mode) and one redis-server, each a real process on its own port.

Each instance has its own data_dir, so nothing can pass between them through a local folder: what one stored,
the other serves only through the object store, and a rate limit holds across them only through Redis.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import io
import os
import subprocess
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy.orm import close_all_sessions
from sqlmodel import select

from claims.models import Loan, Statement
from claims.settings import ROOT
from reports.jobs import business_today
from reports.periods import parse_period
from tests.api.test_claim_lifecycle import firm_on_no_list
from tests.conftest import PG_URL, _drop_pg_schema, _pg_schema_url, make_test_app, postgres_reachable
from tests.helpers import PDF, callers_of
from tests.integration.statement_history import build_history
from tests.integration.test_concurrency import ClaimFactory
from tests.servers import BIN, Instance, MotoServer, RedisServer, need

RATE_LIMIT = 60  # per caller per minute, across both instances
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, demo_signing):
    """PostgreSQL schema, moto, redis-server and two gunicorn instances; yields (app, instance 1, instance 2, env)."""
    need(f"PostgreSQL at {PG_URL.split('@')[-1]}", postgres_reachable())
    work = tmp_path_factory.mktemp("instances")
    schema = f"claims_instances_{os.getpid()}"
    url = _pg_schema_url(schema)
    from claims.migrate import upgrade

    upgrade(url)
    with MotoServer() as moto, RedisServer(work) as redis:
        s3 = moto.bucket(f"claims-{uuid.uuid4().hex[:12]}")
        env = {**os.environ, "CLAIMS_ENV": "test", "DATABASE_URL": url, "PYTHONPATH": str(ROOT),
               "CLAIMS_STORAGE": "s3", "CLAIMS_S3_ENDPOINT": s3["s3_endpoint"], "CLAIMS_S3_BUCKET": s3["s3_bucket"],
               "CLAIMS_S3_ACCESS_KEY": s3["s3_access_key"], "CLAIMS_S3_SECRET_KEY": s3["s3_secret_key"],
               "REDIS_URL": redis.url, "CLAIMS_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
               "CLAIMS_SIGNING_P12": str(demo_signing.p12), "CLAIMS_SIGNING_PASSWORD": demo_signing.password,
               "CLAIMS_SIGNING_CA": str(demo_signing.ca_pem)}
        instances = [Instance({**env, "CLAIMS_DATA_DIR": str(work / f"instance-{n}")}, work / f"instance-{n}.log")
                     for n in (1, 2)]
        app = None
        try:
            for instance in instances:
                instance.launch()  # they boot while this process seeds the schema
            app = make_test_app(url, work / "tests", **s3)
            for instance in instances:
                instance.wait_ready()
            yield app, instances[0], instances[1], env, work
        finally:
            for instance in instances:
                instance.stop()
            close_all_sessions()
            if app is not None:
                app.extensions["claims"]["engine"].dispose()
            _drop_pg_schema(schema)


@pytest.fixture(scope="module")
def people(cluster):
    """Header sets for the seeded banks and staff, issued against the shared database."""
    app = cluster[0]
    with app.extensions["claims"]["sessions"]() as session:
        return callers_of(app, session)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_statement_issued_by_the_scheduler_process_is_served_by_both_instances(cluster, people):
    # First in the module: the quarter's history (and its caps) assumes no other loan of Bank A yet.
    app, one, two, env, work = cluster
    session = app.extensions["claims"]["sessions"]()
    with session, app.test_client() as client:
        build_history(app, client, people, session, parse_period("2026Q3"))
    scheduler = subprocess.run([str(BIN / "claims"), "run-job", "period_statements", "--period", "2026Q3",
                                "--today", "2026-10-09"], env={**env, "CLAIMS_DATA_DIR": str(work / "scheduler")},
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert scheduler.returncode == 0, scheduler.stdout + scheduler.stderr
    assert "'created': 2" in scheduler.stdout, scheduler.stdout
    with app.extensions["claims"]["sessions"]() as session:
        row = session.exec(select(Statement).where(Statement.number == "SZ-SME-POOL-2026Q3-BANK_A-v1")).one()
    bank = people["BANK_A"].headers
    for instance in (one, two):
        pdf = requests.get(f"{instance.base}/statements/{row.id}/pdf", headers=bank, timeout=30)
        assert pdf.status_code == 200, pdf.text
        assert _sha(pdf.content) == row.sha256 == pdf.headers["Digest-SHA256"]
        verified = requests.get(f"{instance.base}/statements/{row.id}/verify", headers=bank, timeout=60).json()
        assert (verified["file_intact"], verified["signature_trusted"], verified["ok"]) == (True, True, True)


def test_a_document_uploaded_through_one_instance_is_downloaded_through_the_other(cluster, people):
    app, one, two, *_ = cluster
    session = app.extensions["claims"]["sessions"]()
    with session:
        claim = ClaimFactory(app, session).claim("draft")
        session.commit()
        claim_id = claim.id
    content = PDF + b"% instance test " + uuid.uuid4().hex.encode() + b"\n"
    bank = people["BANK_A"].headers
    uploaded = requests.post(f"{one.base}/claims/{claim_id}/documents", headers=bank, timeout=30,
                             data={"kind": "claim_form"}, files={"file": ("申请表.pdf", io.BytesIO(content))})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["sha256"] == _sha(content)
    served = requests.get(f"{two.base}/claims/{claim_id}/documents/{uploaded.json()['id']}", headers=bank, timeout=30)
    assert served.status_code == 200, served.text
    assert _sha(served.content) == _sha(content) == uploaded.json()["sha256"]


def test_one_callers_rate_limit_is_counted_across_both_instances(cluster, people):
    _, one, two, *_ = cluster
    caller = people["BANK_B"].headers  # makes no other request through the instances
    remaining = []
    for n in range(RATE_LIMIT):
        answer = requests.get(f"{(one, two)[n % 2].base}/statements", headers=caller, timeout=30)
        assert answer.status_code == 200, (n, answer.text)
        remaining.append(int(answer.headers["X-RateLimit-Remaining"]))
    # One window for both: the count falls by one per request whichever instance answered it.
    assert remaining == list(range(RATE_LIMIT - 1, -1, -1))
    for instance in (one, two):
        refused = requests.get(f"{instance.base}/statements", headers=caller, timeout=30)
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited", refused.text


def test_failed_logins_are_counted_across_both_instances_and_lock_the_account_on_both(cluster):
    _, one, two, *_ = cluster
    # Counted in the shared database, not per process: ten wrong passwords spread over both instances lock it.
    for attempt in range(1, 10):
        wrong = requests.post(f"{(one, two)[attempt % 2].base}/auth/token", timeout=30,
                              json={"username": "reviewer2", "password": f"guess-{attempt}"})
        assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials"), wrong.text
    tenth = requests.post(f"{two.base}/auth/token", json={"username": "reviewer2", "password": "guess-10"}, timeout=30)
    assert (tenth.status_code, tenth.json()["code"]) == (423, "account_locked"), tenth.text
    for instance in (one, two):
        right = requests.post(f"{instance.base}/auth/token", timeout=30,
                              json={"username": "reviewer2", "password": "reviewer2-demo-pass"})
        assert (right.status_code, right.json()["code"]) == (423, "account_locked"), right.text


def test_an_instance_killed_mid_request_loses_nothing_and_the_retry_gives_the_same_answer(cluster, people):
    app, one, two, *_ = cluster
    with app.extensions["claims"]["sessions"]() as session:
        firms = [f.uscc for f in firm_on_no_list(session)[:3]]
    disbursed = business_today("Asia/Shanghai") - timedelta(days=5)  # the instances run on the real date
    run = uuid.uuid4().hex[:6]
    bodies = [{"program": "sz-sme-pool", "contract_no": f"KILL-{run}-{n:02d}", "enterprise_uscc": firms[n % 3],
               "principal": "300000.00", "disbursed_on": disbursed.isoformat(),
               "maturity_on": (disbursed + timedelta(days=364)).isoformat()} for n in range(12)]
    bank = people["BANK_A"].headers

    def post(base: str, n: int):
        headers = {**bank, "Idempotency-Key": f"kill-{run}-{n}"}
        return requests.post(f"{base}/loans", json=bodies[n], headers=headers, timeout=30)

    first: dict[int, requests.Response] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        futures = {pool.submit(post, one.base, n): n for n in range(12)}
        done_before_kill = 0
        for future in concurrent.futures.as_completed(futures):
            try:
                first[futures[future]] = future.result()
            except requests.RequestException:
                pass  # the connection died with the instance
            done_before_kill += 1
            if done_before_kill == 3:
                one.kill()  # SIGKILL with requests still in flight: no clean-up, no reply
    answered = {n: r for n, r in first.items() if r.status_code == 201}
    assert all(r.status_code == 201 for r in first.values()), [r.text for r in first.values()]
    assert 3 <= len(answered) < 12, len(answered)

    retries = {n: post(two.base, n) for n in range(12)}
    assert all(r.status_code == 201 for r in retries.values()), {n: r.text for n, r in retries.items()}
    for n, original in answered.items():
        # The answer the client lost nothing of is replayed, not recomputed into a second loan.
        assert retries[n].headers.get("Idempotent-Replayed") == "true"
        assert retries[n].json()["id"] == original.json()["id"]
    again = {n: post(two.base, n) for n in range(12)}
    assert {n: r.json()["id"] for n, r in again.items()} == {n: r.json()["id"] for n, r in retries.items()}
    with app.extensions["claims"]["sessions"]() as session:
        loans = session.exec(select(Loan).where(Loan.contract_no.like(f"KILL-{run}-%"))).all()
    assert sorted(loan.contract_no for loan in loans) == sorted(b["contract_no"] for b in bodies)  # one row each
