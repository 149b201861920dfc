"""A sample settlement statement for the PDF tests, and reading a rendered one back as text."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import subprocess

from reports.pdf import render_statement
from reports.statement_model import (
    BudgetUsage,
    InstitutionRef,
    ProgramRef,
    SignatureParty,
    Statement,
    StatementLine,
    StatementSection,
    StatementTotals,
)

ENTERPRISES = (
    "深圳市星河微电子科技有限公司",
    "深圳市南山区鹏程精密制造有限公司",
    "深圳前海堃喆供应链管理有限公司",
    "深圳市龙岗区淼鑫新材料股份有限公司",
)
CLAIM_COLUMNS = ("损失本金（元）", "核定补偿（元）", "实付金额（元）")


def claim_line(index: int) -> StatementLine:
    """A paid claim whose amounts vary with index so totals are not round numbers."""
    loss = 1_000_000_00 + index * 12_345_67
    approved = loss * 40 // 100
    return StatementLine(
        reference=f"CL-2026-{index:06d}",
        name=ENTERPRISES[index % len(ENTERPRISES)],
        amounts_fen=(loss, approved, approved),
        trace="基础30%+专精特新10pp=40%；单笔上限未触发",
    )


def make_statement(claim_count: int = 3, *, name: str | None = None) -> Statement:
    """An institution statement with claims, subsidies, rewards and a recovery owed back."""
    claims = [claim_line(i) for i in range(1, claim_count + 1)]
    if name is not None:
        claims[0] = dataclasses.replace(claims[0], name=name)
    claims_paid = sum(line.amounts_fen[-1] for line in claims)
    subsidies = [
        StatementLine("SA-2026-000031", ENTERPRISES[0], (8_456_78,), "贴息：LPR 3.10%×50%×92天"),
        StatementLine("SA-2026-000032", ENTERPRISES[1], (3_210_00,), "贴保：担保费1.5%×40%"),
    ]
    rewards = [StatementLine("RW-2026-000007", "中国工商银行深圳市分行", (50_000_00,), "新增首贷户奖励：25户×2000元")]
    recoveries = [StatementLine("RC-2026-000003", ENTERPRISES[2], (120_000_00, 48_000_00), "追回12万元×补偿比例40%")]
    subsidy_total = 8_456_78 + 3_210_00
    reward_total = 50_000_00
    recovery_total = 48_000_00
    opening = -1_234_56
    net = opening + claims_paid + subsidy_total + reward_total - recovery_total
    return Statement(
        number="SZ-RP-2026Q3-0001-v1",
        title="深圳市中小微企业贷款风险补偿资金结算对账单",
        institution=InstitutionRef(name="中国工商银行股份有限公司深圳市分行", code="91440300892319466Q"),
        program=ProgramRef(code="SZ-RP", name="中小微企业贷款风险补偿资金池"),
        period_label="2026年第3季度",
        period_start=dt.date(2026, 7, 1),
        period_end=dt.date(2026, 9, 30),
        issue_date=dt.date(2026, 10, 9),
        version=1,
        opening_fen=opening,
        sections=(
            StatementSection("本期已核准并拨付的代偿补偿", CLAIM_COLUMNS, tuple(claims), claims_paid),
            StatementSection("本期贴息、贴保补贴", ("补贴金额（元）",), tuple(subsidies), subsidy_total),
            StatementSection("本期机构奖励", ("奖励金额（元）",), tuple(rewards), reward_total),
            StatementSection(
                "本期应退回的追偿款", ("追回金额（元）", "应退回（元）"), tuple(recoveries), recovery_total
            ),
        ),
        totals=StatementTotals(
            claims_paid_fen=claims_paid,
            subsidies_fen=subsidy_total,
            rewards_fen=reward_total,
            recoveries_returned_fen=recovery_total,
            net_fen=net,
        ),
        budget=BudgetUsage(fiscal_year=2026, used_ytd_fen=38_765_432_10, annual_fen=200_000_000_00),
        signatures=(
            SignatureParty("甲方（拨付方）", "深圳市财政局"),
            SignatureParty("乙方（合作机构）", "中国工商银行股份有限公司深圳市分行"),
        ),
    )


def render(statement: Statement) -> bytes:
    """The statement rendered in memory."""
    buffer = io.BytesIO()
    render_statement(statement, buffer)
    return buffer.getvalue()


def pdftotext(path, *, layout: bool = True) -> str:
    """poppler's text of a PDF file (its layout kept unless asked not to)."""
    options = ["-layout"] if layout else []
    return subprocess.run(["pdftotext", *options, str(path), "-"], check=True, capture_output=True, text=True).stdout


def packed(text: str) -> str:
    """Text without whitespace: wrapped cells and poppler's spacing stop mattering."""
    return re.sub(r"\s+", "", text)
