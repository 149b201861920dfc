"""Figure 1, claim intake: claims filed per second over HTTP vs a bare Flask endpoint inserting the same row.

Both apps run under the same gunicorn (3 gthread workers x 2 threads, keep-alive) on loopback and get
the same stream of POST /claims bodies, one per defaulted loan, for the same fixed time. Ours
authenticates the key, checks the claim rules, computes the payout with its caps and trace, writes the
claim and an audit event, and answers the claim document; the floor does one INSERT ... SELECT.
"""
from __future__ import annotations

import json

import sqlalchemy as sa

from bench.common import BANKS, BenchDatabase, Result, insert_defaulted_loans
from bench.load import post_load
from bench.servers import Gunicorn

CONNECTIONS = 8
CLAIM = {"default_on": "2025-12-01", "outstanding_principal": "800000.00", "days_overdue": 120,
         "classification": "substandard"}


def _requests(db: BenchDatabase, loans: dict[str, list[int]]) -> list[tuple[dict, bytes]]:
    # Interleave the banks so every connection files for all of them.
    columns = [[(bank, loan_id) for loan_id in loans[bank]] for bank in BANKS]
    ordered = [pair for group in zip(*columns, strict=False) for pair in group]
    return [({"X-API-Key": db.keys[bank], "Content-Type": "application/json"},
             json.dumps({"loan_id": loan_id, **CLAIM}).encode()) for bank, loan_id in ordered]


def _claims_in_db(db: BenchDatabase) -> int:
    engine = db.engine()
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM claim")).scalar_one()
    engine.dispose()
    return count


def run(db: BenchDatabase, *, seconds: float, loans: int, log_dir) -> Result:
    """Measure ours then the floor, back to back, on the same database."""
    engine = db.engine()
    by_bank = insert_defaulted_loans(engine, loans)
    engine.dispose()
    db.analyze()
    requests = _requests(db, by_bank)
    with Gunicorn("bench.wsgi:app", {**db.env(), "BENCH_APP": "product"}, log=log_dir / "intake-ours.log") as server:
        ours = post_load(server.host, server.port, "/claims", requests, seconds=seconds, connections=CONNECTIONS)
        peak_ours = server.peak_worker_rss_mib()
    filed = _claims_in_db(db)
    # Requests in flight when the clock stops still finish; at most one per connection.
    if not ours.ok <= filed <= ours.ok + CONNECTIONS:
        raise RuntimeError(f"ours answered {ours.ok} x 2xx but {filed} claims are stored")
    with Gunicorn("bench.wsgi:floor", {**db.env(), "BENCH_APP": "floor"}, log=log_dir / "intake-floor.log") as server:
        floor = post_load(server.host, server.port, "/claims", requests, seconds=seconds, connections=CONNECTIONS)
        peak_floor = server.peak_worker_rss_mib()
    # Issue #20's figure: within 4x of the floor's throughput on PostgreSQL (production's database), p99 under
    # 100 ms with 8 clients on both, every answer 2xx.
    within = ours.per_second * 4 >= floor.per_second or db.kind != "postgres"
    met = within and ours.p99_ms < 100 and ours.failed == 0
    note = (f"{ours.tool}, {seconds:g} s each; p50/p99 ms ours {ours.p50_ms:.0f}/{ours.p99_ms:.0f}, "
            f"floor {floor.p50_ms:.0f}/{floor.p99_ms:.0f}; non-2xx ours {ours.failed}, floor {floor.failed}")
    return Result("1 claim intake", db.kind, "claims/s", ours.per_second, floor.per_second, True,
                  "<=4x p99<100ms 0 err" if db.kind == "postgres" else "p99<100ms 0 err", peak_ours, peak_floor, met, note)
