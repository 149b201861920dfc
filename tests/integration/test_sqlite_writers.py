"""Ten writers against SQLite over real HTTP for 30 s: no 500, every answer matches the database, no key left.

SQLite has one writer lock. Each keyed write claims its Idempotency-Key, registers the loan and stores
the answer in one BEGIN IMMEDIATE transaction, so a request either waits its turn, or (lock still not had
after the busy timeout) is answered 503 `database_busy` before anything is written.
"""
from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from datetime import date

from sqlmodel import select
from werkzeug.serving import make_server

from claims.migrate import upgrade
from claims.models import IdempotencyKey, Loan
from tests.api.test_claim_lifecycle import firm_on_no_list
from tests.conftest import make_test_app

WRITERS, SECONDS = 10, 30.0


def _post(port: int, path: str, body: dict, headers: dict) -> tuple[int, dict, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=90)
    try:
        connection.request("POST", path, body=json.dumps(body), headers={**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}"), dict(response.getheaders())
    finally:
        connection.close()


def test_ten_writers_for_thirty_seconds_get_no_500_and_every_answer_matches_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'writers.db'}"
    upgrade(url)
    app = make_test_app(url, tmp_path)
    app.extensions["claims"]["today"] = date(2026, 2, 1)
    db = app.extensions["claims"]["sessions"]()
    firms = [f.uscc for f in firm_on_no_list(db)[:40]]
    key = app.config["DEMO_KEYS"]["BANK_A"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    serial, results, lock = itertools.count(1), [], threading.Lock()
    deadline = time.monotonic() + SECONDS

    def writer(index: int) -> None:
        while time.monotonic() < deadline:
            n = next(serial)
            body = {"program": "sz-sme-pool", "contract_no": f"W{index:02d}-{n:06d}", "enterprise_uscc": firms[n % len(firms)],
                    "principal": "500000.00", "disbursed_on": "2026-01-20", "maturity_on": "2027-01-19",
                    "security_type": "unsecured", "annual_rate": "0.0435"}
            headers = {"X-API-Key": key, "Idempotency-Key": f"w-{n}"}
            answers = [_post(port, "/loans", body, headers)]
            if n % 7 == 0:  # a client that retries a request it already had an answer to
                answers.append(_post(port, "/loans", body, headers))
            with lock:
                results.extend((body["contract_no"], *answer) for answer in answers)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    server.shutdown()

    statuses = [status for _, status, _, _ in results]
    assert 500 not in statuses and set(statuses) <= {201, 503}, sorted(set(statuses))
    created = {contract: body["id"] for contract, status, body, headers in results
               if status == 201 and "Idempotent-Replayed" not in headers}
    replayed = [(contract, body["id"]) for contract, status, body, headers in results
                if status == 201 and "Idempotent-Replayed" in headers]
    busy = {contract for contract, status, _, _ in results if status == 503}
    db.commit()
    stored = {loan.contract_no: loan.id for loan in db.exec(select(Loan).where(Loan.contract_no.like("W%")))}
    assert stored == created  # every 201 is in the database and every stored loan was answered 201
    assert all(created[contract] == loan_id for contract, loan_id in replayed)
    assert not busy & set(stored)  # a 503 wrote nothing
    assert db.exec(select(IdempotencyKey).where(IdempotencyKey.state != "done")).all() == []
    assert len(created) > 100, f"only {len(created)} loans in {SECONDS} s"
    print(f"\n{len(results)} responses: {len(created)} created, {len(replayed)} replayed, {len(busy)} busy (503)")
    db.close()
    app.extensions["claims"]["engine"].dispose()
