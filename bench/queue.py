"""Figure 5, review queue: listing and filtering claims with 1 000 000 rows in the table, p50/p99 latency.

Set-up (not measured): loans, then a million claims over four programs and four banks, bulk-loaded
with the claim indexes dropped and rebuilt afterwards, then ANALYZE. Most claims are settled (paid,
rejected, withdrawn); a few per cent wait in each review state. Ours: GET /claims through the whole
Flask app in-process (auth, filters, count for X-Pagination, serialisation of 50 claims). The floor:
the same page as one SQL statement on a DBAPI cursor. A mix of six lists, round-robin, first pass
discarded as warm-up.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from bench.common import BANKS, BenchDatabase, Result, insert_defaulted_loans, isolated, reference_ids

PROGRAMS = ("sz-sme-pool", "sz-sme-pool", "sz-startup-guarantee", "nb-whitelist-pool", "sc-hitech-zone-pool")
# Per 100 claims: where they stand.
STATUSES = (["paid"] * 55 + ["rejected"] * 10 + ["withdrawn"] * 5 + ["approved"] * 5 + ["second_review"] * 5
            + ["first_review"] * 8 + ["submitted"] * 7 + ["draft"] * 3 + ["returned"] * 2)
COLUMNS = ("loan_id", "institution_id", "program_code", "rule_version_id", "status", "default_on", "days_overdue",
           "classification", "outstanding_principal_fen", "unpaid_interest_fen", "recovered_before_fen",
           "computed_fen", "approved_fen", "paid_fen", "returned_fen", "ratio", "trace", "shares", "budget_year",
           "note", "submitted_at", "stage_due_on", "created_at", "updated_at", "version")
PAGE = 50
# (who, query string, the floor's WHERE/ORDER with :inst for the bank, OFFSET)
LISTS = (
    ("reviewer", "status=submitted,first_review&program=sz-sme-pool",
     "status IN ('submitted', 'first_review') AND program_code = 'sz-sme-pool' ORDER BY submitted_at, id", 0),
    ("reviewer", "status=second_review&program=sz-sme-pool",
     "status = 'second_review' AND program_code = 'sz-sme-pool' ORDER BY submitted_at, id", 0),
    ("reviewer", "status=submitted,first_review&program=sz-sme-pool&page=10",
     "status IN ('submitted', 'first_review') AND program_code = 'sz-sme-pool' ORDER BY submitted_at, id", 450),
    ("reviewer", "program=sz-startup-guarantee", "program_code = 'sz-startup-guarantee' ORDER BY id DESC", 0),
    ("institution", "", "institution_id = :inst ORDER BY id DESC", 0),
    ("institution", "status=returned", "institution_id = :inst AND status = 'returned' ORDER BY submitted_at, id", 0),
)


def _rows(count: int, ids: dict, loans: dict[str, list[int]]):
    started = datetime(2024, 1, 1)
    span = (datetime(2026, 3, 30) - started).total_seconds()
    for i in range(count):
        bank = BANKS[i % len(BANKS)]
        bank_loans = loans[bank]
        program = PROGRAMS[(i // 4) % len(PROGRAMS)]
        status = STATUSES[((i * 2_654_435_761) >> 7) % 100]  # spread evenly over banks and programs
        created = started + timedelta(seconds=span * i / count)
        principal = 100_000_00 + (i % 997) * 1_000_00
        settled = status in ("approved", "paid")
        yield (bank_loans[(i // len(BANKS)) % len(bank_loans)], ids["institutions"][bank], program,
               ids["rule_versions"][program], status, (created - timedelta(days=100)).date(), 100, "substandard",
               principal, 0, 0, principal * 4 // 10, principal * 4 // 10 if settled else None,
               principal * 4 // 10 if status == "paid" else 0, 0, "0.40", "[]", "{}", created.year, "",
               None if status == "draft" else created + timedelta(hours=2), (created + timedelta(days=7)).date(),
               created, created, 1)


def load_claims(db: BenchDatabase, count: int) -> float:
    """Bulk-load count claims with the claim indexes rebuilt afterwards; seconds taken (set-up)."""
    from claims.models import Claim

    began = time.perf_counter()
    engine = db.engine()
    loans = insert_defaulted_loans(engine, 20_000, prefix="QUEUE")
    ids = reference_ids(engine)
    indexes = list(Claim.__table__.indexes)
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    raw = engine.raw_connection()
    try:
        if db.kind == "postgres":
            with raw.driver_connection.cursor() as cursor:
                with cursor.copy(f"COPY claim ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in _rows(count, ids, loans):
                        copy.write_row(row)
        else:
            cursor = raw.driver_connection.cursor()
            cursor.execute("BEGIN")
            cursor.executemany(f"INSERT INTO claim ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                               (tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else
                                      v.isoformat() if isinstance(v, date) else v for v in row)
                                for row in _rows(count, ids, loans)))
            cursor.execute("COMMIT")
        raw.driver_connection.commit() if db.kind == "postgres" else None
    finally:
        raw.close()
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)
    engine.dispose()
    db.analyze()
    return time.perf_counter() - began


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return pick(0.50) * 1000, pick(0.99) * 1000


def ours(url: str, data_dir: str, rounds: int) -> tuple[float, float, dict]:
    """GET /claims through the app for each list, round-robin: (p50 ms, p99 ms, p99 ms per list)."""
    from pathlib import Path

    from claims.app import create_app
    from claims.services.seeding import demo_api_key
    from claims.settings import load_settings

    app = create_app(load_settings("test").with_overrides(database_url=url, data_dir=Path(data_dir)))
    client = app.test_client()
    login = client.post("/auth/token", json={"username": "reviewer1", "password": "reviewer1-demo-pass"})
    headers = {"reviewer": {"Authorization": f"Bearer {login.get_json()['token']}"},
               "institution": {"X-API-Key": demo_api_key("BANK_A")[1]}}
    samples, by_list = [], {i: [] for i in range(len(LISTS))}
    for round_ in range(rounds + 1):
        for i, (who, query, _, _) in enumerate(LISTS):
            began = time.perf_counter()
            response = client.get(f"/claims?{query}&page_size={PAGE}", headers=headers[who])
            elapsed = time.perf_counter() - began
            if response.status_code != 200 or len(response.get_json()) != PAGE:
                raise RuntimeError(f"GET /claims?{query} answered {response.status_code} "
                                   f"with {len(response.get_json() or [])} items")
            if round_:
                samples.append(elapsed)
                by_list[i].append(elapsed)
    p50, p99 = _percentiles(samples)
    return p50, p99, {LISTS[i][1] or "(own claims)": _percentiles(s)[1] for i, s in by_list.items()}


def floor(url: str, rounds: int) -> tuple[float, float, dict]:
    """The same pages as one SELECT each on a DBAPI cursor: (p50 ms, p99 ms, p99 ms per list)."""
    from claims.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        bank_a = conn.execute(sa.text("SELECT id FROM institution WHERE code = 'BANK_A'")).scalar_one()
    raw = engine.raw_connection()
    cursor = raw.cursor()
    samples, by_list = [], {i: [] for i in range(len(LISTS))}
    for round_ in range(rounds + 1):
        for i, (_, _, where, offset) in enumerate(LISTS):
            sql = f"SELECT * FROM claim WHERE {where.replace(':inst', str(bank_a))} LIMIT {PAGE} OFFSET {offset}"
            began = time.perf_counter()
            cursor.execute(sql)
            rows = cursor.fetchall()
            elapsed = time.perf_counter() - began
            raw.rollback()
            if len(rows) != PAGE:
                raise RuntimeError(f"{sql} gave {len(rows)} rows")
            if round_:
                samples.append(elapsed)
                by_list[i].append(elapsed)
    raw.close()
    engine.dispose()
    p50, p99 = _percentiles(samples)
    return p50, p99, {LISTS[i][1] or "(own claims)": _percentiles(s)[1] for i, s in by_list.items()}


def run(db: BenchDatabase, *, claims: int, rounds: int) -> Result:
    """Load the table, then ours and the floor back to back, each in a fresh process."""
    setup_s = load_claims(db, claims)
    (ours_p50, ours_p99, ours_lists), peak_ours = isolated(ours, db.url, str(db.data_dir), rounds)
    (floor_p50, floor_p99, _), peak_floor = isolated(floor, db.url, rounds)
    worst = max(ours_lists, key=ours_lists.get)
    note = (f"{claims:,} claims (loaded in {setup_s:.0f} s); p50 ours {ours_p50:.1f} ms, floor {floor_p50:.1f} ms; "
            f"slowest list {worst!r} p99 {ours_lists[worst]:.0f} ms")
    return Result("5 review queue p99", db.kind, "ms", ours_p99, floor_p99, False, "p99 < 100 ms", peak_ours,
                  peak_floor, ours_p99 < 100, note)
