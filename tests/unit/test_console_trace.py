"""The console's wording of a trace: exact yuan, Chinese steps, the binding cap marked, unknown steps kept."""
from __future__ import annotations

from claims.console.trace import rows, run_counts, yuan


def test_yuan_is_exact_with_thousands_and_sign():
    assert yuan(1234567) == "¥12,345.67"
    assert yuan(-5) == "-¥0.05"
    assert yuan(0) == "¥0.00"
    assert yuan("100000000.00") == "¥100,000,000.00"
    assert yuan("17419.669575") == "¥17,419.669575"
    assert yuan("n/a") == "n/a"


def test_a_claim_trace_reads_in_chinese_with_the_binding_cap_marked():
    trace = [
        {"step": "rule", "value": "sz-sme-pool@2023.1", "detail": {"source": "001 art. 九", "sha256": "x"}},
        {"step": "inputs", "value": None, "detail": {}},
        {"step": "loss_base", "value": "750000.00", "detail": "principal", "fen": 75000000},
        {"step": "uplift:listed", "value": "0.40", "detail": {
            "applies": True, "combine": "+ 0.10", "label": "专精特新",
            "conditions": ["met: on list specialized or high_tech on 2026-04-06 (disbursement date)"]}},
        {"step": "uplift:first_loan", "value": "0.40", "detail": {
            "applies": False, "combine": "+ 0.05", "label": "首贷户", "conditions": ["not met: first_loan is True"]}},
        {"step": "cap:per_institution_year_share_of_registered", "value": "50000.00", "fen": 5000000, "detail": {
            "limit": "50000.00", "used": "0.00", "bound": True,
            "note": "0.05 x registered principal this year 1000000.00, floored"}},
        {"step": "amount", "value": "50000.00", "detail": "bound by per_institution_year_share_of_registered",
         "fen": 5000000},
        {"step": "something_new", "value": "7", "detail": "kept as the engine wrote it"},
    ]
    table = [(r.step, r.value, r.detail, r.kind) for r in rows(trace, {"specialized": "专精特新中小企业"})]
    assert table == [
        ("适用规则", "sz-sme-pool@2023.1", "依据：001 art. 九", ""),
        ("损失基数", "¥750,000.00", "本金", ""),
        ("上浮：专精特新", "0.40", "适用，比例 + 0.10。满足：2026-04-06（放款日）在名单「专精特新中小企业 或 high_tech」中",
         "applied"),
        ("上浮：首贷户", "0.40", "不适用。不满足：首贷户", "skipped"),
        ("合作机构年度上限（当年备案本金比例）", "¥50,000.00", "限额 ¥50,000.00，已用 ¥0.00，剩余 ¥50,000.00"
         "（当年备案本金 ¥1,000,000.00 × 0.05，向下取整到分） —— 此项封顶", "bound"),
        ("核定金额", "¥50,000.00", "受「合作机构年度上限（当年备案本金比例）」封顶", "result"),
        ("something_new", "7", "kept as the engine wrote it", ""),
    ]


def test_working_days_late_counts_as_the_engine_calendar_does_across_years():
    from datetime import date, timedelta

    from claims.console.review import working_days_late
    from claims.services.review import CALENDAR

    today = date(2026, 10, 16)
    for due in (date(2026, 10, 13), date(2026, 9, 30), date(2025, 12, 31), date(2024, 2, 29), today,
                today + timedelta(days=3)):
        expected = max(CALENDAR.working_days_between(due, today), 0)
        assert working_days_late(due, today) == expected, due
    assert working_days_late(date(2026, 10, 13), today) == 3  # Wednesday to Friday


def test_a_job_runs_counts_read_as_lines_with_amounts_in_yuan():
    counts = {"year": 2026, "programs": {"sz-sme-pool": {"budget_fen": 10_000_000_000, "available_fen": -5}},
              "trial_balance_fen": 0, "unbalanced_accounts": [], "notes": {}}
    assert run_counts(counts) == ["year: 2026", "programs · sz-sme-pool · budget: ¥100,000,000.00",
                                  "programs · sz-sme-pool · available: -¥0.05", "trial_balance: ¥0.00",
                                  "unbalanced_accounts: —", "notes: —"]
