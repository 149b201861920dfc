"""Figure 4, statement run: a quarter's statements for many institutions vs reportlab on bare canvases.

Until the job that assembles statements from the ledger is benchmarked end to end, this figure renders
assembled Statement objects: one per institution, 300 to 700 claim lines each (50 000 lines for 100
institutions). Ours is render_statement (tables, wrapping, totals, signatures, "page x of y"); the
floor puts the same text on pages, one text object per page: cells wrapped to the same column
widths, rows paged at the same heights, column labels, totals and footers included, but no tables,
grid, fills or kinsoku line breaking (bench/statement_pdf.py). Fresh process each.
"""
from __future__ import annotations

import time

from bench.common import Result, isolated


def line_counts(institutions: int) -> list[int]:
    """Lines per institution: 300 to 700, averaging 500."""
    return [300 + (i * 37) % 401 for i in range(institutions)]


def _render(kind: str, institutions: int) -> tuple[float, float, int, int]:
    from bench.statement_pdf import build_statement, floor, ours

    statements = [build_statement(count) for count in line_counts(institutions)]
    draw = ours if kind == "ours" else floor
    began, began_cpu = time.perf_counter(), time.process_time()
    pages = sum(draw(statement)[0] for statement in statements)
    lines = sum(len(s.sections[0].lines) for s in statements)
    return time.perf_counter() - began, time.process_time() - began_cpu, pages, lines


def ours_run(institutions: int) -> tuple[float, float, int, int]:
    """Render every statement with the product renderer: (seconds, CPU seconds, pages, lines)."""
    return _render("ours", institutions)


def floor_run(institutions: int) -> tuple[float, float, int, int]:
    """Put every statement's text on bare canvases: (seconds, CPU seconds, pages, lines)."""
    return _render("floor", institutions)


def run(*, institutions: int, rounds: int = 2) -> Result:
    """Ours then the floor, each in a fresh process, alternating for a few rounds; the best of each counts."""
    ours, floors = [], []
    for _ in range(rounds):
        # Alternating means a burst of load from elsewhere on the machine hits both alike.
        ours.append(isolated(ours_run, institutions))
        floors.append(isolated(floor_run, institutions))
    (ours_s, _, ours_pages, lines), peak_ours = min(ours, key=lambda run: run[0][0])
    (floor_s, _, floor_pages, _), peak_floor = min(floors, key=lambda run: run[0][0])
    ours_cpu = min(run[0][1] for run in ours)
    floor_cpu = min(run[0][1] for run in floors)
    # Both are single-threaded, so on a busy machine the CPU seconds are the steadier comparison.
    note = (f"{institutions} statements, {lines:,} lines; pages ours {ours_pages:,}, floor {floor_pages:,}; "
            f"CPU s ours {ours_cpu:.1f}, floor {floor_cpu:.1f} ({ours_cpu / floor_cpu:.2f}x); best of {rounds}; "
            "assembled Statement objects (no DB)")
    return Result("4 statement run", "-", "s", ours_s, floor_s, False, "<= 2x floor", peak_ours, peak_floor,
                  ours_s <= 2 * floor_s, note)
