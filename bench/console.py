"""Figure 6, console pages: every page of the bureau's console at p95, demo data plus 100 000 claims.

Set-up (not measured): the demo activity (`claims seed --demo`: loans and claims in every state, the
ledger, decisions, statements), then 100 000 claims bulk-loaded as in figure 5, then ANALYZE. Ours: each
console page through the whole Flask app in-process, logged in as the demo admin (who sees every queue):
session cookie, staff lookup, the services' queries, Jinja rendering. The floor: each page's main read as
one SQL statement on a DBAPI cursor. Pages round-robin, first pass discarded as warm-up.
"""
from __future__ import annotations

import gc

import re
import time

import sqlalchemy as sa

from bench.common import TODAY, BenchDatabase, Result, isolated
from bench.queue import load_claims

# (label, path with {claim} {bank} {year} placeholders, the floor's SQL)
PAGES = (
    ("home", "/console/", "SELECT count(*) FROM claim WHERE status IN ('submitted', 'first_review')"),
    ("queue first review", "/console/claims/queue/first_review",
     "SELECT * FROM claim WHERE status IN ('submitted', 'first_review') ORDER BY stage_due_on, id LIMIT 25"),
    ("queue page 20", "/console/claims/queue/first_review?page=20",
     "SELECT * FROM claim WHERE status IN ('submitted', 'first_review') ORDER BY stage_due_on, id LIMIT 25 OFFSET 475"),
    ("queue filtered", "/console/claims/queue/second_review?program=sz-sme-pool&bank={bank}&overdue=1",
     "SELECT * FROM claim WHERE status = 'second_review' AND program_code = 'sz-sme-pool' AND institution_id = {bank} "
     "AND stage_due_on < '{today}' ORDER BY stage_due_on, id LIMIT 25"),
    ("queue payment", "/console/claims/queue/payment",
     "SELECT * FROM claim WHERE status = 'approved' ORDER BY stage_due_on, id LIMIT 25"),
    ("claim page", "/console/claims/{claim}", "SELECT * FROM claim WHERE id = {claim}"),
    ("applications", "/console/applications/queue/first_review",
     "SELECT * FROM application WHERE status IN ('submitted', 'first_review') ORDER BY stage_due_on, id LIMIT 25"),
    ("programs", "/console/programs", "SELECT * FROM program ORDER BY code"),
    ("program dashboard", "/console/programs/sz-sme-pool",
     "SELECT year, kind, balance_fen FROM ledger_account WHERE program_code = 'sz-sme-pool' AND year IS NOT NULL"),
    ("budget chart", "/console/programs/sz-sme-pool/use-{year}.svg",
     "SELECT * FROM ledger_posting ORDER BY id DESC LIMIT 100"),
    ("statements", "/console/statements",
     "SELECT * FROM statement WHERE status IN ('done', 'superseded') ORDER BY period_start DESC LIMIT 30"),
    ("jobs", "/console/jobs", "SELECT * FROM job_run ORDER BY id DESC LIMIT 30"),
    ("audit events", "/console/audit?entity=claim&entity_id={claim}",
     "SELECT * FROM audit_event WHERE entity = 'claim' AND entity_id = '{claim}' ORDER BY seq"),
)
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def load_demo(db: BenchDatabase) -> None:
    """The demo activity of `claims seed --demo`, on the benchmark's business date (set-up)."""
    from claims.db import make_engine, make_session_factory
    from claims.services.demo import load_demo_activity
    from claims.services.rulebook import PublishedRules

    engine = make_engine(db.url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        # The published rules as the app reads them (from the database), as `claims seed --demo` uses them.
        report = load_demo_activity(session, PublishedRules(sessions), today=TODAY, settings=db.settings())
    engine.dispose()
    if not report.claims:
        raise RuntimeError(f"the demo activity made no claims: {report.skipped}")


def _placeholders(url: str) -> dict:
    from claims.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        # The demo claims were loaded first: the lowest id in first review is the demo one, with its trace.
        claim = conn.execute(sa.text("SELECT min(id) FROM claim WHERE status = 'first_review'")).scalar()
        bank = conn.execute(sa.text("SELECT id FROM institution WHERE code = 'BANK_A'")).scalar_one()
    engine.dispose()
    return {"claim": claim, "bank": bank, "year": TODAY.year, "today": TODAY.isoformat()}


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def ours(url: str, data_dir: str, rounds: int) -> tuple[float, float, dict]:
    """Each page through the app, round-robin: (p50 ms, p95 ms, p95 ms per page)."""
    from pathlib import Path

    from claims.app import create_app
    from claims.settings import load_settings

    values = _placeholders(url)
    app = create_app(load_settings("test").with_overrides(database_url=url, data_dir=Path(data_dir)))
    app.extensions["claims"]["today"] = TODAY
    # As config/gunicorn.conf.py does in every production worker: the start-up heap is frozen out of the
    # collector's sight, so a full collection (~110 ms here otherwise) does not land on a random page.
    gc.freeze()
    client = app.test_client()
    token = _TOKEN.search(client.get("/console/login").get_data(as_text=True)).group(1)
    logged = client.post("/console/login", data={"csrf_token": token, "username": "admin", "password": "admin-demo-pass"})
    if logged.status_code != 302:
        raise RuntimeError(f"console login answered {logged.status_code}")
    samples, by_page = [], {label: [] for label, _, _ in PAGES}
    for round_ in range(rounds + 1):
        for label, path, _ in PAGES:
            began = time.perf_counter()
            response = client.get(path.format(**values))
            body = response.get_data()
            elapsed = time.perf_counter() - began
            if response.status_code != 200 or len(body) < 500:
                raise RuntimeError(f"GET {path} answered {response.status_code}: {body[:300]!r}")
            if round_:
                samples.append(elapsed)
                by_page[label].append(elapsed)
    return (_percentile(samples, 0.50), _percentile(samples, 0.95),
            {label: _percentile(s, 0.95) for label, s in by_page.items()})


def floor(url: str, rounds: int) -> tuple[float, float, dict]:
    """Each page's main read as one statement on a DBAPI cursor: (p50 ms, p95 ms, p95 ms per page)."""
    from claims.db import make_engine

    values = _placeholders(url)
    engine = make_engine(url)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    samples, by_page = [], {label: [] for label, _, _ in PAGES}
    for round_ in range(rounds + 1):
        for label, _, sql in PAGES:
            began = time.perf_counter()
            cursor.execute(sql.format(**values))
            cursor.fetchall()
            elapsed = time.perf_counter() - began
            raw.rollback()
            if round_:
                samples.append(elapsed)
                by_page[label].append(elapsed)
    raw.close()
    engine.dispose()
    return (_percentile(samples, 0.50), _percentile(samples, 0.95),
            {label: _percentile(s, 0.95) for label, s in by_page.items()})


def run(db: BenchDatabase, *, claims: int, rounds: int) -> Result:
    """Demo data and the bulk claims, then ours and the floor back to back, each in a fresh process."""
    began = time.perf_counter()
    load_demo(db)
    load_claims(db, claims)
    setup_s = time.perf_counter() - began
    (ours_p50, ours_p95, pages), peak_ours = isolated(ours, db.url, str(db.data_dir), rounds)
    (floor_p50, floor_p95, _), peak_floor = isolated(floor, db.url, rounds)
    worst = max(pages, key=pages.get)
    note = (f"demo data + {claims:,} claims (set up in {setup_s:.0f} s), {len(PAGES)} pages x {rounds} rounds; "
            f"p50 ours {ours_p50:.1f} ms, floor {floor_p50:.2f} ms; slowest page {worst!r} p95 {pages[worst]:.0f} ms; "
            + ", ".join(f"{label} {ms:.0f}" for label, ms in pages.items()))
    return Result("6 console pages p95", db.kind, "ms", ours_p95, floor_p95, False, "p95 < 200 ms", peak_ours,
                  peak_floor, ours_p95 < 200, note)
