"""Figure 4's set-up: a quarter of paid claims with their ledger postings, bulk-loaded as the services would have
written them, and the cleanup between rounds (not measured)."""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from bench.common import PROGRAM, BenchDatabase, insert_firms, reference_ids, synthetic_uscc

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


def quarter():
    """The quarter figure 4 issues statements for (2026Q1)."""
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
    period = quarter()
    counts = line_counts(institutions)
    # (institution index, paid at): the previous quarter's claims, then the quarter's, institutions interleaved.
    plan = []
    for start, end, share in ((datetime(2025, 9, 30, 16), datetime(2025, 12, 31, 16), 10),
                              (*period.utc_bounds("Asia/Shanghai"), 1)):
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
