"""Period-end statements: content that reconciles to the ledger, printed in Chinese, issued idempotently."""
from __future__ import annotations

import hashlib
import re
import subprocess
from datetime import date

import pytest
from sqlmodel import select

from claims import ledger
from claims.models import JobRun, Statement
from reports import generation
from reports.jobs import JobDeps, run_job
from reports.cjk_text import format_amount
from reports.periods import parse_period
from tests.integration.statement_history import build_history
from tests.helpers import local_folder
from workflows.money import rmb_upper

Q3 = parse_period("2026Q3")
ISSUED_ON = date(2026, 10, 9)


@pytest.fixture
def history(app, client, callers, db):
    """Bank A's sz-sme-pool history around 2026Q3."""
    return build_history(app, client, callers, db, Q3)


@pytest.fixture
def deps(app):
    """The job dependencies of the test application."""
    return JobDeps.from_app(app)


def statements(db, **where) -> list[Statement]:
    """Statement rows as the database holds them now (the session keeps objects across commits)."""
    db.commit()
    db.expire_all()
    query = select(Statement).order_by(Statement.scope, Statement.version)
    for key, value in where.items():
        query = query.where(getattr(Statement, key) == value)
    return list(db.exec(query))


def packed_text(path, *, layout: bool = True) -> str:
    """The PDF's text without whitespace, so wrapped cells and poppler's spacing stop mattering."""
    options = ["-layout"] if layout else []
    text = subprocess.run(["pdftotext", *options, str(path), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", "", text)


def test_a_quarter_statement_reconciles_to_the_ledger_and_prints_names_totals_and_words(app, db, deps, history):
    run = run_job(deps, "period_statements", today=ISSUED_ON, trigger="test")
    assert run.status == "done", run.error
    assert (run.counts["created"], run.counts["unchanged"]) == (2, 0)

    bank, summary = statements(db, program_code="sz-sme-pool")
    assert (bank.scope, summary.scope) == (f"institution:{history.institution_id}", "program")
    assert bank.number == "SZ-SME-POOL-2026Q3-BANK_A-v1" and summary.number == "SZ-SME-POOL-2026Q3-ALL-v1"
    assert (bank.status, bank.period_start, bank.period_end, bank.period_label) == (
        "done", date(2026, 7, 1), date(2026, 9, 30), "2026年第3季度")
    # Opening 150,000.00 (claim 1, paid in Q2) + 25,000.00 paid in Q3 - 9,000.00 owed back on 30 Sep
    # 23:59:59 Shanghai; the 1,000.00 booked at 00:00:00 on 1 Oct belongs to Q4.
    expected = {"opening_fen": 150_000_00, "claims_paid_fen": 25_000_00, "subsidies_fen": 0, "rewards_fen": 0,
                "recoveries_returned_fen": 9_000_00, "period_net_fen": 16_000_00, "net_fen": 166_000_00, "lines": 2,
                "budget_used_ytd_fen": 175_000_00, "budget_annual_fen": 100_000_000_00}
    assert bank.totals == expected
    assert summary.totals == expected  # one bank in the program: the summary adds up to the same figures
    position = {p.year: p for p in ledger.budget_positions(db, program_code="sz-sme-pool")}[2026]
    assert (position.paid_fen, position.budget_fen) == (175_000_00, 100_000_000_00)

    path = local_folder(app, "statements") / bank.path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == bank.sha256 and bank.pages == 2
    text = packed_text(path)
    for name in history.enterprise_names:
        assert name in text
    for printed in ("150,000.00", "25,000.00", "9,000.00", "166,000.00", "100,000,000.00", "175,000.00",
                    "示例科技银行股份有限公司深圳分行", "深圳市财政局", "SZ-SME-POOL-2026Q3-BANK_A-v1", "第1页/共2页",
                    f"CL-{history.claim_ids[1]:06d}", "A-2026-002", "A-2026-001", "机构年度备案额比例上限25,000.00生效",
                    "2026-07-21", "2026-09-30", "扣除费用10,000.00后90,000.00按实际补偿比例退回", "期末正式对账单",
                    "2026年10月9日", "本期贴息、贴保补贴", "本期无此类事项"):
        assert printed in text, printed
    assert rmb_upper(166_000_00) == "壹拾陆万陆仟元整" and "壹拾陆万陆仟元整" in text
    # Period net is the period's own movements, the closing balance opening + period net; both as the ledger has them.
    assert "本期净额+16,000.00本期加项合计减本期减项" in text and "期末余额+166,000.00期初余额加本期净额" in text
    assert "期中" not in text  # issued after the quarter closed: final
    assert format_amount(1_000_00) not in text  # the 1,000.00 owed back on 1 October is Q4's

    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all(re.match(r"[A-Z]{6}\+WenQuanYiZenHei\S*\s.*\syes\s+yes\s", row) for row in fonts), fonts


def test_rerunning_unchanged_data_changes_nothing_and_changed_data_supersedes(app, client, callers, db, deps,
                                                                               history):
    assert run_job(deps, "period_statements", today=ISSUED_ON).counts["created"] == 2
    first = {s.scope: (s.id, s.sha256) for s in statements(db)}
    again = run_job(deps, "period_statements", today=date(2026, 10, 20))
    assert (again.counts["created"], again.counts["unchanged"], again.counts["superseded"]) == (0, 2, 0)
    assert {s.scope: (s.id, s.sha256) for s in statements(db)} == first

    # A recovery reported later but booked inside Q3 changes the bank's statement and the summary.
    app.extensions["claims"]["today"] = date(2026, 11, 5)  # recoveries are dated no later than today
    made = client.post(f"/claims/{history.claim_ids[0]}/recoveries",
                       json={"amount": "20000.00", "costs": "0.00", "recovered_on": "2026-11-05"},
                       headers=callers["BANK_A"].headers).get_json()
    from claims.models import LedgerPosting

    db.commit()
    posting = db.exec(select(LedgerPosting).where(LedgerPosting.subject_type == "recovery",
                                                  LedgerPosting.subject_id == made["id"])).one()
    posting.at = posting.at.replace(year=2026, month=9, day=15)
    db.add(posting)
    db.commit()
    changed = run_job(deps, "period_statements", today=date(2026, 11, 6))
    assert (changed.counts["created"], changed.counts["superseded"]) == (2, 2)
    rows = statements(db, scope=f"institution:{history.institution_id}")
    assert [(r.version, r.status) for r in rows] == [(1, "superseded"), (2, "done")]
    assert rows[1].number.endswith("-v2") and rows[1].totals["recoveries_returned_fen"] == 9_000_00 + int(
        made["returned"].replace(".", ""))
    assert rows[0].sha256 == first[rows[0].scope][1]  # version 1 is kept as it was issued


def test_a_run_that_fails_mid_way_leaves_no_done_statement_and_the_rerun_completes(app, db, deps, history,
                                                                                    monkeypatch):
    real = generation.render_statement_bytes
    rendered = []

    def render_then_crash(statement):
        rendered.append(statement.number)
        if len(rendered) == 2:
            raise OSError("disk full while rendering")
        return real(statement)

    monkeypatch.setattr(generation, "render_statement_bytes", render_then_crash)
    failed = run_job(deps, "period_statements", today=ISSUED_ON)
    assert (failed.status, failed.error) == ("failed", "OSError: disk full while rendering")
    rows = statements(db)
    assert [(r.scope, r.status) for r in rows] == [(f"institution:{history.institution_id}", "done"),
                                                   ("program", "generating")]
    summary_file = local_folder(app, "statements") / "SZ-SME-POOL-2026Q3-ALL-v1.pdf"
    assert not summary_file.exists()

    monkeypatch.setattr(generation, "render_statement_bytes", real)
    rerun = run_job(deps, "period_statements", today=ISSUED_ON)
    assert rerun.status == "done"
    assert (rerun.counts["created"], rerun.counts["unchanged"], rerun.counts["stale_replaced"]) == (1, 1, 1)
    rows = statements(db)
    assert [(r.status, r.version) for r in rows] == [("done", 1), ("done", 1)]
    assert summary_file.exists() and hashlib.sha256(summary_file.read_bytes()).hexdigest() == rows[1].sha256
    assert [r.status for r in db.exec(select(JobRun).order_by(JobRun.id))] == ["failed", "done"]


def test_a_program_without_activity_issues_nothing_unless_nil_statements_are_asked_for(app, db, deps):
    quiet = run_job(deps, "period_statements", today=ISSUED_ON)
    assert (quiet.status, quiet.counts["created"], quiet.counts["programs"]) == ("done", 0, 0)
    from dataclasses import replace

    nil = replace(deps, schedule=replace(deps.schedule, nil_statements=True))
    issued = run_job(nil, "period_statements", today=ISSUED_ON, period=Q3)
    rows = statements(db, program_code="sz-sme-pool")
    # Banks A-D are admitted to the pool: four nil statements and the summary, every total zero.
    assert len(rows) == 5 and issued.counts["created"] >= 5
    assert {r.totals["net_fen"] for r in rows} == {0} and {r.totals["lines"] for r in rows} == {0}


def test_a_paid_subsidy_application_prints_in_the_subsidy_section_and_the_totals(app, db, deps):
    from datetime import datetime

    from claims.models import Enterprise, Institution, LedgerPosting, RuleVersion
    from claims.models.application import Application

    bank = db.exec(select(Institution).where(Institution.code == "BANK_B")).one()
    firm = db.exec(select(Enterprise).order_by(Enterprise.id)).first()
    rule = db.exec(select(RuleVersion).where(RuleVersion.program_code == "sz-tech-interest")).first()
    application = Application(institution_id=bank.id, program_code="sz-tech-interest", rule_version_id=rule.id,
                              kind="interest_subsidy", enterprise_id=firm.id, status="paid",
                              period_start=date(2026, 4, 1), period_end=date(2026, 6, 30), applied_on=date(2026, 7, 3),
                              basis_fen=3_000_000_00, computed_fen=12_345_67, approved_fen=12_345_67,
                              paid_fen=12_345_67, budget_year=2026, trace=[{"step": "share", "value": "0.50"}])
    db.add(application)
    db.flush()
    keys = {"program_code": "sz-tech-interest", "subject_type": "application", "subject_id": application.id}
    ledger.reserve_budget(db, year=2026, budget_fen=50_000_000_00, amount_fen=12_345_67, **keys)
    ledger.post_payment(db, year=2026, amount_fen=12_345_67, **keys)
    db.commit()
    for posting in db.exec(select(LedgerPosting).where(LedgerPosting.subject_type.in_(("application", "budget")))):
        posting.at = datetime(2026, 8, 3, 2, 0)
        db.add(posting)
    db.commit()

    run = run_job(deps, "period_statements", today=ISSUED_ON)
    assert (run.status, run.counts["created"]) == ("done", 2), run.error
    row = statements(db, program_code="sz-tech-interest", scope=f"institution:{bank.id}")[0]
    assert (row.totals["subsidies_fen"], row.totals["claims_paid_fen"], row.totals["net_fen"]) == (12_345_67, 0,
                                                                                                   12_345_67)
    # Reading order (no -layout) keeps a wrapped explanation cell in one piece.
    text = packed_text(local_folder(app, "statements") / row.path, layout=False)
    for printed in (firm.name, f"AP-{application.id:06d}", "12,345.67", "补贴比例0.50", "壹万贰仟叁佰肆拾伍元陆角柒分"):
        assert printed in text, printed
