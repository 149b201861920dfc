"""One table per section of a statement: its lines (paged past CHUNK_ROWS), the detail columns and a subtotal."""
from __future__ import annotations

from collections.abc import Iterator

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Table, TableStyle

from reports.cjk_text import format_amount, wrap
from reports.paged_table import PagedTable
from reports.pdf_layout import (AMOUNT_WIDTH, CELL_PAD_BOTTOM, CELL_PAD_TOP, CELL_PAD_X, CHUNK_ROWS, CONTENT_WIDTH,
                                GRID, HEADER_FILL, MIN_TEXT_WIDTH, MIN_TRACE_WIDTH, REFERENCE_MAX_WIDTH,
                                REFERENCE_MIN_WIDTH, SEQ_WIDTH, STRIPE_FILL, SUBTOTAL_FILL, TABLE_FONT_SIZE,
                                TABLE_LEADING, table)
from reports.pdf_tables import fit_width
from reports.statement_model import StatementSection

DETAIL_LABELS = ("贷款合同号", "付款日期/凭证号")
CONTRACT_MIN_WIDTH = 16 * mm
CONTRACT_MAX_WIDTH = 24 * mm
DATE_WIDTH = 16.5 * mm
VOUCHER_MAX_WIDTH = 26 * mm


def section_tables(section: StatementSection, font: str, drawn: list[str]) -> Iterator[Table | PagedTable]:
    amount_count = len(section.columns)
    amounts = [list(map(format_amount, line.amounts_fen)) for line in section.lines]
    subtotal_text = format_amount(section.subtotal_fen)
    subtotal_col = section.subtotal_column % amount_count
    amount_widths = [
        fit_width(
            # A subtotal under a later column spans from the first amount column, so only a
            # subtotal under the first one has to fit in a single column.
            [row[col] for row in amounts] + ([subtotal_text] if col == subtotal_col == 0 else []),
            font,
            AMOUNT_WIDTH,
            2 * AMOUNT_WIDTH,
        )
        for col in range(amount_count)
    ]
    reference_width = fit_width(
        [line.reference for line in section.lines], font, REFERENCE_MIN_WIDTH, REFERENCE_MAX_WIDTH
    )
    # Item sections also show the loan contract and the payment (or booking) date with its voucher.
    details = section.detail_columns
    detail_texts = [[line.contract_no, f"{line.paid_on}\n{line.voucher_no}" if line.voucher_no else line.paid_on]
                    for line in section.lines] if details else []
    detail_widths = [fit_width([row[0] for row in detail_texts], font, CONTRACT_MIN_WIDTH, CONTRACT_MAX_WIDTH),
                     fit_width([line.voucher_no for line in section.lines], font, DATE_WIDTH, VOUCHER_MAX_WIDTH)
                     ] if details else []
    free = CONTENT_WIDTH - SEQ_WIDTH - reference_width - sum(amount_widths) - sum(detail_widths)
    if free < MIN_TEXT_WIDTH:
        raise ValueError(f"section {section.title}: {amount_count} amount columns do not fit across A4")
    # Names get what the longest one needs (at least 35 % of the free width), leaving the trace the rest.
    name_width = fit_width([line.name for line in section.lines], font, free * 0.35,
                           max(free * 0.35, free - MIN_TRACE_WIDTH))
    widths = [SEQ_WIDTH, reference_width, name_width, *amount_widths, *detail_widths, free - name_width]
    trace_col = 3 + amount_count + len(detail_widths)
    labels = ["序号", section.reference_label, section.name_label, *section.columns,
              *(DETAIL_LABELS if details else ()), section.trace_label]
    header = [wrap(label, font, TABLE_FONT_SIZE, width - 2 * CELL_PAD_X) for label, width in zip(labels, widths, strict=True)]

    body: list[list[str]] = []
    for seq, (line, line_amounts) in enumerate(zip(section.lines, amounts, strict=True), start=1):
        extra = ([wrap(text, font, TABLE_FONT_SIZE, width - 2 * CELL_PAD_X)
                  for text, width in zip(detail_texts[seq - 1], detail_widths, strict=True)] if details else [])
        body.append(
            [
                str(seq),
                wrap(line.reference, font, TABLE_FONT_SIZE, widths[1] - 2 * CELL_PAD_X),
                wrap(line.name, font, TABLE_FONT_SIZE, widths[2] - 2 * CELL_PAD_X),
                *line_amounts,
                *extra,
                wrap(line.trace, font, TABLE_FONT_SIZE, widths[trace_col] - 2 * CELL_PAD_X),
            ]
        )
    blanks = [""] * (amount_count + len(detail_widths))
    if not body:
        body.append(["", "本期无此类事项", "", *blanks, ""])
    subtotal = ["", "小计", "", *blanks, ""]
    subtotal[3] = subtotal_text

    subtotal_commands = [
        ("SPAN", (1, -1), (2, -1)),
        ("BACKGROUND", (0, -1), (-1, -1), SUBTOTAL_FILL),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, GRID),
        ("ALIGN", (1, -1), (2, -1), "CENTER"),
        ("SPAN", (3, -1), (3 + subtotal_col, -1)),
    ]
    if not section.lines:
        commands = table_commands(font, amount_count, empty=True) + subtotal_commands
        yield table([header, *body, subtotal], drawn, colWidths=widths, repeatRows=1, style=TableStyle(commands))
        return
    chunks = [body[i : i + CHUNK_ROWS] for i in range(0, len(body), CHUNK_ROWS)]
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        rows = [*chunk, subtotal] if last else chunk
        drawn.extend(header)
        for row in rows:
            drawn.extend(row)
        yield PagedTable(
            header,
            rows,
            col_widths=widths,
            leading=TABLE_LEADING,
            padding=CELL_PAD_BOTTOM + CELL_PAD_TOP,
            commands=table_commands(font, amount_count, empty=False),
            last_row_commands=subtotal_commands if last else [],
        )


def table_commands(font: str, amount_count: int, *, empty: bool) -> list[tuple]:
    last_amount = 2 + amount_count
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), font, TABLE_FONT_SIZE, TABLE_LEADING),
        ("BOX", (0, 0), (-1, -1), 0.6, GRID),
        ("INNERGRID", (0, 0), (-1, -1), 0.25, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_X),
        ("TOPPADDING", (0, 0), (-1, -1), CELL_PAD_TOP),
        ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PAD_BOTTOM),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("ALIGN", (0, 1), (0, -1), "CENTER"),
        ("ALIGN", (3, 1), (last_amount, -1), "RIGHT"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE_FILL]),
    ]
    if empty:
        commands += [("SPAN", (1, 1), (-1, 1)), ("ALIGN", (1, 1), (-1, 1), "CENTER")]
    return commands
