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
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

import sqlalchemy as sa

from bench.common import (
    PROGRAM,
    BenchDatabase,
    Result,
    insert_firms,
    isolated,
    reference_ids,
    synthetic_uscc,
)

QUARTER_CODE = "2026Q1"
ISSUED_ON = date(2026, 4, 9)
FIRM_COUNT = 2_000
LOAN_COLUMNS = ("id", "institution_id", "program_code", "rule_version_id", "enterprise_id", "contract_no",
                "principal_fen", "disbursed_on", "maturity_on", "annual_rate", "security_type", "unsecured_share",
                "first_loan", "policy_tool", "attributes", "status", "days_overdue", "status_on", "created_at")
CLAIM_COLUMNS = ("id", "loan_id", "institution_id", "program_code", "rule_version_id", "status", "default_on",
                 "days_overdue", "classification", "outstanding_principal_fen", "unpaid_interest_fen",
                 "recovered_before_fen", "computed_fen", "approved_fen", "paid_fen", "returned_fen", "ratio", "trace",
                 "shares", "budget_year", "note", "submitted_at", "stage_due_on", "paid_on", "created_at",
                 "updated_at", "version")
POSTING_COLUMNS = ("id", "kind", "subject_type", "subject_id", "memo", "at")
ENTRY_COLUMNS = ("id", "posting_id", "account_id", "amount_fen")


def line_counts(institutions: int) -> list[int]:
    """Lines per institution in the quarter: 300 to 700, averaging 500."""
    return [300 + (i * 37) % 401 for i in range(institutions)]


def _quarter():
    from reports.periods import parse_period

    return parse_period(QUARTER_CODE)


def _bulk(db: BenchDatabase, engine, table: str, columns: tuple[str, ...], rows) -> None:
    """COPY on PostgreSQL, one executemany in one transaction on SQLite."""
    raw = engine.raw_connection()
    try:
        if db.kind == "postgres":
            with raw.driver_connection.cursor() as cursor, \
                    cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            raw.driver_connection.commit()
        else:
            def plain(value):
                # The text SQLAlchemy itself stores, so range comparisons on `at` hold at the boundary.
                if isinstance(value, datetime):
                    return value.strftime("%Y-%m-%d %H:%M:%S.%f")
                return value.isoformat() if isinstance(value, date) else value

            cursor = raw.driver_connection.cursor()
            cursor.execute("BEGIN")
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                               (tuple(map(plain, row)) for row in rows))
            cursor.execute("COMMIT")
    finally:
        raw.close()


def _next_id(conn, table: str) -> int:
    return (conn.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar() or 0) + 1


def _institutions(engine, count: int) -> list[int]:
    from claims.models import Institution

    now = datetime(2025, 1, 1)
    rows = [{"code": f"BK{i:03d}", "kind": "bank", "name": f"示例第{i + 1}商业银行股份有限公司深圳分行",
             "uscc": synthetic_uscc(500_000 + i), "created_at": now} for i in range(count)]
    with engine.begin() as conn:
        conn.execute(sa.insert(Institution), rows)
        return [conn.execute(sa.text("SELECT id FROM institution WHERE code = :c"), {"c": row["code"]}).scalar_one()
                for row in rows]


def _budget_accounts(db: BenchDatabase, engine, rule, years) -> dict[int, dict[str, int]]:
    """Fund each budget year as the services do (budget row + appropriation posting); the account ids."""
    from sqlmodel import select

    from claims import ledger
    from claims.db import make_session_factory, unit_of_work
    from claims.models import LedgerPosting

    accounts = {}
    with unit_of_work(make_session_factory(engine)) as session:
        for year in years:
            ledger.lock_budget(session, program_code=PROGRAM, year=year, budget_fen=rule.annual_budget_fen(year))
            accounts[year] = {kind: ledger.program_account(session, PROGRAM, year, kind).id
                              for kind in ("available", "reserved", "paid")}
        for posting in session.exec(select(LedgerPosting).where(LedgerPosting.kind == "appropriate")):
            posting.at = datetime(int(posting.memo[:4]) - 1, 12, 31, 16)  # 1 January, Shanghai
            session.add(posting)
    return accounts


def load_history(db: BenchDatabase, institutions: int) -> tuple[int, float]:
    """Set-up: the quarter's paid claims and their postings, plus a smaller previous quarter; (lines, seconds)."""
    from bench.engine import FIRMS
    from workflows.compensation import compute_compensation
    from workflows.facts import (
        CapUsage,
        ClaimFacts,
        EnterpriseFacts,
        ListMembership,
        LoanFacts,
    )
    from workflows.money import format_fen
    from workflows.rules import load_programs

    began = time.perf_counter()
    engine = db.engine()
    registry = load_programs(db.settings().programs_dir)
    rule = registry.rule_governing(PROGRAM, {"disbursement": date(2025, 6, 1)})
    bank_ids = _institutions(engine, institutions)
    insert_firms(engine, FIRM_COUNT)
    ids = reference_ids(engine)
    with engine.connect() as conn:
        firms = [row[0] for row in conn.execute(sa.text(
            "SELECT id FROM enterprise WHERE name LIKE '深圳市示例基准%' ORDER BY id")).all()]
        loan_id, claim_id = _next_id(conn, "loan"), _next_id(conn, "claim")
    accounts = _budget_accounts(db, engine, rule, (2025, 2026))
    with engine.connect() as conn:
        posting_id, entry_id = _next_id(conn, "ledger_posting"), _next_id(conn, "ledger_entry")
    facts = [EnterpriseFacts(revenue_fen=5_000_000_00, industry="软件", memberships=tuple(ListMembership(*m) for m in f))
             for f in FIRMS]
    usage = CapUsage(institution_registered_principal_fen=10 ** 13, program_budget_remaining_fen=10 ** 12,
                     institution_cohort_fen=0)
    quarter = _quarter()
    counts = line_counts(institutions)
    # (institution index, paid at): the previous quarter's claims, then the quarter's, institutions interleaved.
    plan = []
    for start, end, share in ((datetime(2025, 9, 30, 16), datetime(2025, 12, 31, 16), 10),
                              (*quarter.utc_bounds("Asia/Shanghai"), 1)):
        wanted = [count // share for count in counts]
        order = [i for i, n in enumerate(wanted) for _ in range(n)]
        order = [order[(k * 7_919) % len(order)] for k in range(len(order))] if len(order) % 7_919 else order
        span = (end - start).total_seconds() - 1
        plan += [(bank, start + timedelta(seconds=span * k / len(order))) for k, bank in enumerate(order)]
    scale = max(1, -(-institutions // 100))
    loans, claims, postings, entries = [], [], [], []
    paid_in_year = {2025: 0, 2026: 0}
    for k, (bank, paid_at) in enumerate(plan):
        # 2 000 to 6 000 yuan, smaller past 100 institutions so that the year stays within the program's budget.
        principal = (2_000_00 + (k * 7_919_13) % 4_000_00) // scale
        enterprise = firms[k % len(firms)]
        contract = f"STMT-{k:07d}"
        loan = LoanFacts(principal_fen=principal, disbursed_on=date(2025, 6, 1 + k % 28), maturity_on=date(2026, 5, 31),
                         first_loan=k % 7 == 0, enterprise=facts[k % len(facts)])
        outstanding = principal * 4 // 5
        result = compute_compensation(rule, loan, ClaimFacts(default_on=date(2025, 9, 1), claimed_on=paid_at.date(),
                                                             outstanding_principal_fen=outstanding,
                                                             recovered_before_claim_fen=(k % 3) * 100_00), usage)
        computed = result.amount_fen
        approved = computed * 9 // 10 if k % 9 == 0 else computed  # some are reduced on approval
        # The services reserve on approval against that (Shanghai) year's budget, and pay from the same year.
        year = (paid_at - timedelta(days=3) + timedelta(hours=8)).year
        paid_in_year[year] += approved
        filed = paid_at - timedelta(days=20)
        shares = {party: format_fen(fen) for party, fen in (result.split or result.shares).items()}
        loans.append((loan_id + k, bank_ids[bank], PROGRAM, ids["rule_version"], enterprise, contract, principal,
                      loan.disbursed_on, loan.maturity_on, "0.0435", "unsecured", "1", loan.first_loan, False,
                      '{"borrower_kind": "enterprise"}', "compensated", 120, paid_at.date(), datetime(2025, 6, 1)))
        claims.append((claim_id + k, loan_id + k, bank_ids[bank], PROGRAM, ids["rule_version"], "paid",
                       date(2025, 9, 1), 120, "substandard", outstanding, 0, (k % 3) * 100_00, computed, approved,
                       approved, 0, str(result.ratio), json.dumps(result.trace, ensure_ascii=False),
                       json.dumps(shares, ensure_ascii=False), year, "", filed, filed.date() + timedelta(days=15),
                       paid_at.date(), filed, paid_at, 6))
        for offset, kind, legs in ((timedelta(days=3), "reserve", (("reserved", approved), ("available", -approved))),
                                   (timedelta(0), "pay", (("paid", approved), ("reserved", -approved)))):
            postings.append((posting_id, kind, "claim", claim_id + k, "", paid_at - offset))
            for account, amount in legs:
                entries.append((entry_id, posting_id, accounts[year][account], amount))
                entry_id += 1
            posting_id += 1
    for year, paid in paid_in_year.items():
        if paid > rule.annual_budget_fen(year):
            raise RuntimeError(f"set-up pays {paid} fen in {year}, beyond the budget the services would allow")
    for table, columns, rows in (("loan", LOAN_COLUMNS, loans), ("claim", CLAIM_COLUMNS, claims),
                                 ("ledger_posting", POSTING_COLUMNS, postings), ("ledger_entry", ENTRY_COLUMNS, entries)):
        _bulk(db, engine, table, columns, rows)
        if db.kind == "postgres":
            with engine.begin() as conn:
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
    with engine.begin() as conn:  # the entries were written directly: the accounts keep their sums as post() would
        conn.execute(sa.text("UPDATE ledger_account SET balance_fen = (SELECT COALESCE(SUM(e.amount_fen), 0) "
                             "FROM ledger_entry e WHERE e.account_id = ledger_account.id)"))
    engine.dispose()
    db.analyze()
    return sum(counts), time.perf_counter() - began


def clear_statements(db: BenchDatabase) -> None:
    """Set-up between runs: no statement rows or files, so every run issues every statement afresh."""
    engine = db.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM statement"))
    engine.dispose()
    for path in (db.data_dir / "statements").glob("*.pdf"):  # the local store's statement objects
        path.unlink()


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
    run = run_job(deps, "period_statements", trigger="bench", today=ISSUED_ON, period=_quarter())
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

    from bench.statement_pdf import build_statement, floor_pdf
    from claims.db import make_engine
    from reports.statement_facts import claim_trace_summary
    from reports.statement_model import InstitutionRef, StatementLine, StatementTotals

    quarter = _quarter()
    start, end = quarter.utc_bounds("Asia/Shanghai")
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
