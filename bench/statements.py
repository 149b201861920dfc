"""Figure 4, statement run: the period_statements job for a quarter vs one SQL query drawn on bare canvases.

Set-up (not measured): 100 institutions' history in sz-sme-pool, bulk-loaded: loans, paid claims with
the trace the engine computes for them, and the ledger postings the services write (appropriation per
budget year, then per claim a reserve and a pay posting with their entries). 300 to 700 claims per
institution are paid inside 2026Q1 (50 000 lines for 100), a tenth as many in 2025Q4 (the opening
positions). Claims are small (a few thousand yuan) so that the quarter stays within the program's
annual budget, as the services would insist (past 100 institutions proportionally smaller).

Ours: `run_job(deps, "period_statements", period=2026Q1)` end to end: assembly from the ledger,
generation rows and locks, digests, PDF rendering, files written, job run recorded; one statement
per institution and the bureau's summary. The floor: the quarter's lines as one plain SQL query on a
DBAPI cursor, the same line texts formatted, drawn per institution (and the summary) on bare reportlab
canvases (bench/statement_pdf.py: same font, wrapping and paging, no tables) and written to files.
Each side runs in a fresh process; they alternate for a few rounds and the best of each counts.
"""
from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench.common import PROGRAM, BenchDatabase, Result, isolated
from bench.statement_history import ISSUED_ON, clear_statements, load_history, quarter


def ours(url: str, data_dir: str) -> dict:
    """The period_statements job for the quarter through run_job; seconds, CPU seconds and where they went."""
    from claims.app import create_app
    from claims.settings import load_settings
    from reports import generation, statement_job
    from reports.jobs import JobDeps, run_job

    app = create_app(load_settings("test").with_overrides(database_url=url, data_dir=Path(data_dir)))
    deps = JobDeps.from_app(app)
    spent = {"assembly": 0.0, "render": 0.0}

    def timed(part, function):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[part] += time.perf_counter() - began
        return wrapper

    def timed_stream(function):
        # The assembly is a generator interleaved with rendering: time each step of it, not the call.
        def wrapper(*args, **kwargs):
            items = function(*args, **kwargs)
            while True:
                began = time.perf_counter()
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    spent["assembly"] += time.perf_counter() - began
                yield item
        return wrapper

    # Looked up by name at call time, so wrapping the module attributes splits the job's time by phase.
    statement_job.iter_period = timed_stream(statement_job.iter_period)
    generation.render_statement_bytes = timed("render", generation.render_statement_bytes)
    began, began_cpu = time.perf_counter(), time.process_time()
    run = run_job(deps, "period_statements", trigger="bench", today=ISSUED_ON, period=quarter())
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    if run.status != "done":
        raise RuntimeError(f"period_statements ended {run.status}: {run.error}")
    with deps.engine.connect() as conn:
        pages = conn.execute(sa.text("SELECT sum(pages) FROM statement WHERE status = 'done'")).scalar_one()
        line_total = sum(json.loads(t)["lines"] if isinstance(t, str) else t["lines"] for (t,) in conn.execute(
            sa.text("SELECT totals FROM statement WHERE scope <> 'program'")))
    return {"seconds": elapsed, "cpu": cpu, "pages": int(pages), "statements": run.counts["created"],
            "lines": line_total, **spent}


FLOOR_QUERY = """
SELECT i.code, i.name, i.uscc, c.id, e.name, l.contract_no, c.trace, c.ratio, c.computed_fen, c.approved_fen,
       c.outstanding_principal_fen, en.amount_fen, p.at
FROM ledger_posting p
JOIN ledger_entry en ON en.posting_id = p.id
JOIN ledger_account a ON a.id = en.account_id
JOIN claim c ON c.id = p.subject_id
JOIN loan l ON l.id = c.loan_id
JOIN enterprise e ON e.id = l.enterprise_id
JOIN institution i ON i.id = c.institution_id
WHERE p.kind = 'pay' AND p.subject_type = 'claim' AND a.kind = 'paid' AND a.program_code = '{program}'
  AND p.at >= '{start}' AND p.at < '{end}'
ORDER BY i.code, p.at, p.id
"""


def floor(url: str, data_dir: str) -> dict:
    """The quarter's lines in one query, formatted and drawn per institution on bare canvases, written to files."""
    from types import SimpleNamespace

    from bench.statement_canvas import floor_pdf
    from bench.statement_pdf import build_statement
    from claims.db import make_engine
    from reports.statement_facts import claim_trace_summary
    from reports.statement_model import InstitutionRef, StatementLine, StatementTotals

    period = quarter()
    start, end = period.utc_bounds("Asia/Shanghai")
    out = Path(data_dir) / "floor"
    out.mkdir(parents=True, exist_ok=True)
    template = build_statement(1)
    engine = make_engine(url)
    began, began_cpu = time.perf_counter(), time.process_time()
    raw = engine.raw_connection()
    cursor = raw.cursor()
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    cursor.execute(FLOOR_QUERY.format(program=PROGRAM, start=start.strftime(fmt), end=end.strftime(fmt)))
    by_bank: dict[str, tuple[tuple, list[StatementLine]]] = {}
    zone = ZoneInfo("Asia/Shanghai")
    for code, bank, uscc, claim, firm, contract, trace, ratio, computed, approved, _, amount, at in cursor:
        trace = json.loads(trace) if isinstance(trace, str) else trace
        text = claim_trace_summary(SimpleNamespace(trace=trace, ratio=ratio, computed_fen=computed,
                                                   approved_fen=approved))
        at = datetime.fromisoformat(at) if isinstance(at, str) else at
        paid_on = at.replace(tzinfo=UTC).astimezone(zone).date().isoformat()
        by_bank.setdefault(code, ((bank, uscc), []))[1].append(
            StatementLine(f"CL-{claim:06d}", firm, (approved or 0, int(amount)), text, contract_no=contract,
                          paid_on=paid_on))
    raw.close()

    def draw(number: str, institution, lines, title: str, **labels) -> int:
        paid = sum(line.amounts_fen[-1] for line in lines)
        section = dataclasses.replace(template.sections[0], title=title, lines=tuple(lines), subtotal_fen=paid,
                                      **labels)
        statement = dataclasses.replace(template, number=number, institution=institution, sections=(section,),
                                        totals=StatementTotals(paid, 0, 0, 0, paid))
        pages, data = floor_pdf(statement)
        (out / f"{number}.pdf").write_bytes(data)
        return pages

    pages, summary = 0, []
    for code, ((bank, uscc), lines) in by_bank.items():
        pages += draw(f"FLOOR-{code}", InstitutionRef(bank, uscc), lines, "本期已核准并拨付的代偿补偿")
        summary.append(StatementLine(code, bank, (sum(line.amounts_fen[-1] for line in lines),), f"{len(lines)}笔"))
    pages += draw("FLOOR-ALL", InstitutionRef("", ""), summary, "本期各机构已核准并拨付的代偿补偿",
                  columns=("实付金额（元）",), reference_label="机构代码", name_label="合作机构", trace_label="说明",
                  detail_columns=False)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    engine.dispose()
    return {"seconds": elapsed, "cpu": cpu, "pages": pages, "statements": len(by_bank) + 1,
            "lines": sum(len(lines) for _, lines in by_bank.values())}


def run(db: BenchDatabase, *, institutions: int, rounds: int = 2) -> Result:
    """Load the history, then ours and the floor alternately, each in a fresh process; the best of each counts."""
    lines, setup_s = load_history(db, institutions)
    ours_runs, floor_runs = [], []
    for _ in range(rounds):
        # Alternating means a burst of load from elsewhere on the machine hits both alike.
        clear_statements(db)
        ours_runs.append(isolated(ours, db.url, str(db.data_dir)))
        floor_runs.append(isolated(floor, db.url, str(db.data_dir)))
    best, peak_ours = min(ours_runs, key=lambda r: r[0]["seconds"])
    low, peak_floor = min(floor_runs, key=lambda r: r[0]["seconds"])
    if (best["lines"], best["statements"]) != (lines, institutions + 1) or low["lines"] != lines:
        raise RuntimeError(f"expected {institutions + 1} statements and {lines} lines; ours {best}, floor {low}")
    ours_cpu = min(r[0]["cpu"] for r in ours_runs)
    floor_cpu = min(r[0]["cpu"] for r in floor_runs)
    rest = best["seconds"] - best["assembly"] - best["render"]
    note = (f"{institutions} institutions + summary, {lines:,} lines (loaded in {setup_s:.0f} s); pages ours "
            f"{best['pages']:,}, floor {low['pages']:,}; ours = assembly {best['assembly']:.1f} s + rendering "
            f"{best['render']:.1f} s + rows/locks/files/job {rest:.1f} s; client CPU s ours {ours_cpu:.1f}, floor "
            f"{floor_cpu:.1f} ({ours_cpu / floor_cpu:.2f}x); best of {rounds}")
    return Result("4 statement run", db.kind, "s", best["seconds"], low["seconds"], False, "<= 2x floor", peak_ours,
                  peak_floor, best["seconds"] <= 2 * low["seconds"], note)
