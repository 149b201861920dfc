"""Benchmark: render_statement against reportlab drawing the same cells on a bare canvas, same run.

The floor (bench/statement_canvas.py) is the least work that puts the same text, in the same embedded font,
on the same pages. Each measurement runs in a fresh forked process so its peak RSS is its own.

    .venv/bin/python bench/statement_pdf.py            # 1 000, 10 000 and 20 000 lines
    .venv/bin/python bench/statement_pdf.py 10000 -r 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import multiprocessing
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.statement_canvas import floor_pdf
from reports.pdf import render_statement_bytes
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
    "深圳市宝安区福永镇恒达五金塑胶制品厂",
)
TRACES = (
    "基础30%+专精特新10pp=40%；单笔上限未触发",
    "基础30%；首贷户+5pp=35%；单笔上限200万元已触发",
    "基础40%；科技型中小企业+10pp=50%；风险分担：银行50%",
)


def build_statement(line_count: int) -> Statement:
    """One institution statement whose claim section has line_count lines."""
    lines = []
    for i in range(1, line_count + 1):
        loss = 50_000_00 + (i * 7_919_13) % 3_000_000_00
        approved = loss * 40 // 100
        lines.append(
            StatementLine(
                f"CL-2026-{i:06d}", ENTERPRISES[i % len(ENTERPRISES)], (approved, approved), TRACES[i % 3],
                contract_no=f"JK-2026-{i:05d}", paid_on="2026-09-30"
            )
        )
    paid = sum(line.amounts_fen[-1] for line in lines)
    return Statement(
        number="SZ-RP-2026Q3-0001-v1",
        title="深圳市中小微企业贷款风险补偿资金结算对账单",
        institution=InstitutionRef("中国工商银行股份有限公司深圳市分行", "91440300892319466Q"),
        program=ProgramRef("SZ-RP", "中小微企业贷款风险补偿资金池"),
        period_label="2026年第3季度",
        period_start=dt.date(2026, 7, 1),
        period_end=dt.date(2026, 9, 30),
        issue_date=dt.date(2026, 10, 9),
        version=1,
        opening_fen=0,
        sections=(
            StatementSection(
                "本期已核准并拨付的代偿补偿", ("核定补偿（元）", "实付金额（元）"), tuple(lines), paid
            ),
        ),
        totals=StatementTotals(paid, 0, 0, 0, paid),
        budget=BudgetUsage(2026, paid, 10 * paid),
        signatures=(
            SignatureParty("甲方（拨付方）", "深圳市财政局"),
            SignatureParty("乙方（合作机构）", "中国工商银行股份有限公司深圳市分行"),
        ),
    )


def ours(statement: Statement) -> tuple[int, str]:
    """Render with the product renderer; return pages and digest."""
    _, info = render_statement_bytes(statement)
    return info.pages, info.sha256


def floor(statement: Statement) -> tuple[int, str]:
    """Set the same text lines on bare canvases, one text object per page; return pages and digest."""
    pages, data = floor_pdf(statement)
    return pages, hashlib.sha256(data).hexdigest()


def _child(kind: str, line_count: int, conn) -> None:
    statement = build_statement(line_count)
    started = time.perf_counter()
    pages, digest = (ours if kind == "ours" else floor)(statement)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    conn.send((elapsed, pages, digest, peak_kib))
    conn.close()


def measure(kind: str, line_count: int) -> tuple[float, int, str, int]:
    """Run one measurement in a fresh forked process: seconds, pages, digest, peak RSS in KiB."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(kind, line_count, send))
    process.start()
    result = receive.recv()
    process.join()
    return result


def main() -> None:
    """Measure each figure, best of --repeat runs, and print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", nargs="*", type=int, default=[1_000, 10_000, 20_000])
    parser.add_argument("-r", "--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'figure':<22}{'pages':>7}{'ours (s)':>10}{'floor (s)':>11}{'ratio':>7}{'peak RSS ours/floor (MiB)':>28}")
    for line_count in args.lines:
        best_ours = best_floor = None
        digests = set()
        for _ in range(args.repeat):
            # Alternate the two so a burst of load on the machine hits both alike.
            run_ours = measure("ours", line_count)
            run_floor = measure("floor", line_count)
            digests.add(run_ours[2])
            best_ours = run_ours if best_ours is None or run_ours[0] < best_ours[0] else best_ours
            best_floor = run_floor if best_floor is None or run_floor[0] < best_floor[0] else best_floor
        if len(digests) != 1:
            raise SystemExit(f"renders of {line_count} lines differ between runs: {sorted(digests)}")
        print(
            f"{f'{line_count:,} lines':<22}{best_ours[1]:>7}{best_ours[0]:>10.2f}{best_floor[0]:>11.2f}"
            f"{best_ours[0] / best_floor[0]:>7.2f}{best_ours[3] / 1024:>16.0f} / {best_floor[3] / 1024:<9.0f}"
        )
    print(
        f"best of {args.repeat}; floor = one text object per page, rows wrapped and paged like ours, same font; "
        "every repeat of ours gave the same SHA-256"
    )


if __name__ == "__main__":
    main()
