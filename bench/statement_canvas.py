"""The floor of the statement-PDF figure: the statement's text set on bare reportlab canvases.

The least work that puts the same text, in the same embedded font, on the same pages: the cells wrapped to
ours' column widths (greedy, cached per text), every text line set in one text object per page, rows paged
at ours' row heights and margins with the column labels on each page, the opening block, the totals, budget
and signature texts and "page x of y" footers; no tables, grid lines, fills, alignment or kinsoku.
"""
from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas

from reports.cjk_text import format_amount
from reports.fonts import register_cjk_font
from reports.statement_model import Statement
from workflows.money import rmb_upper

# The floor lays rows out as ours does (same columns, wrapped lines, leading and padding, margins), with
# none of the tables, grids, fills or alignment.
PAGE_WIDTH, PAGE_HEIGHT = A4
TABLE_FONT_SIZE = 7.5
ROW_LEADING = 9.2
CELL_PAD = 3
ROW_PADDING = 4.5
TEXT_LEFT = 12 * mm + 6
CONTENT_WIDTH = PAGE_WIDTH - 2 * TEXT_LEFT
PAGE_TOP = PAGE_HEIGHT - 18 * mm - 6
FIRST_PAGE_TOP = PAGE_TOP - 60 * mm  # below the title and the addressee block
BOTTOM = 20 * mm + 6
CLOSING_LEADING = 12
FOOTER_NOTE = "本对账单附电子签章（PAdES），可离线验证"

def floor_pdf(statement: Statement) -> tuple[int, bytes]:
    """Set the same text lines on bare canvases, one text object per page; return pages and the PDF."""
    font = register_cjk_font()
    lines_of: dict[str, list[str]] = {}  # names and traces repeat, so each is wrapped once
    section = statement.sections[0]
    amounts = [list(map(format_amount, line.amounts_fen)) for line in section.lines]
    details = section.detail_columns  # ours prints each line's contract and payment date there too
    widths = _column_widths(section, amounts, font)
    xs = [TEXT_LEFT + CELL_PAD + sum(widths[:i]) for i in range(len(widths))]
    text_widths = [width - 2 * CELL_PAD for width in widths]
    rows = []
    for seq, (line, figures) in enumerate(zip(section.lines, amounts, strict=True), start=1):
        # Figures fit their fitted columns; the texts are wrapped to theirs.
        rows.append([
            [str(seq)],
            _lines(line.reference, text_widths[1], font, lines_of),
            _lines(line.name, text_widths[2], font, lines_of),
            *([figure] for figure in figures),
            *([_lines(line.contract_no, text_widths[-3], font, lines_of), [line.paid_on]] if details else []),
            _lines(line.trace, text_widths[-1], font, lines_of),
        ])
    heights = [ROW_LEADING * max(map(len, row)) + ROW_PADDING for row in rows]
    header = [_lines(label, width, font, lines_of) for label, width in zip(_labels(statement), text_widths, strict=True)]
    header_height = ROW_LEADING * max(map(len, header)) + ROW_PADDING
    # Page breaks first, so every footer can say "of y pages" as ours does.
    pages, y = [[]], FIRST_PAGE_TOP - header_height
    for index, height in enumerate(heights):
        if y - height < BOTTOM:
            pages.append([])
            y = PAGE_TOP - header_height
        pages[-1].append(index)
        y -= height
    closing = _closing_texts(statement)
    if y - CLOSING_LEADING * len(closing) < BOTTOM:
        pages.append([])
    buffer = io.BytesIO()
    canvas = rl_canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    note_width = stringWidth(FOOTER_NOTE, font, TABLE_FONT_SIZE)
    for number, page in enumerate(pages, start=1):
        # One text object per page: the cheapest way reportlab's canvas API sets many strings.
        text = canvas.beginText()
        text.setFont(font, TABLE_FONT_SIZE, ROW_LEADING)
        y = PAGE_TOP
        if number == 1:
            for line in _opening_texts(statement):
                _put(text, xs[0], y, line)
                y -= CLOSING_LEADING
        else:
            _put(text, xs[0], PAGE_TOP + 6 * mm, f"{statement.program.name} · {statement.institution.name}")
            _put(text, xs[-1], PAGE_TOP + 6 * mm, statement.number)
        if page:
            y = _put_row(text, xs, y, header)
            for index in page:
                y = _put_row(text, xs, y, rows[index])
        if number == len(pages):
            for line in closing:
                _put(text, xs[0], y - CLOSING_LEADING, line)
                y -= CLOSING_LEADING
        _put(text, xs[0], BOTTOM - 10 * mm, f"对账单编号 {statement.number}")
        _put(text, PAGE_WIDTH / 2, BOTTOM - 10 * mm, f"第 {number} 页 / 共 {len(pages)} 页")
        _put(text, PAGE_WIDTH - TEXT_LEFT - note_width, BOTTOM - 10 * mm, FOOTER_NOTE)
        canvas.drawText(text)
        canvas.showPage()
    canvas.save()
    return len(pages), buffer.getvalue()


def _put(text, x: float, y: float, line: str) -> None:
    text.setTextOrigin(x, y)
    text.textLine(line)  # unlike textOut it does not measure the line


def _put_row(text, xs: list[float], y: float, row: list[list[str]]) -> float:
    for x, lines in zip(xs, row, strict=True):
        line_y = y - CELL_PAD - TABLE_FONT_SIZE
        for line in lines:
            _put(text, x, line_y, line)
            line_y -= ROW_LEADING
    return y - ROW_LEADING * max(map(len, row)) - ROW_PADDING


def _column_widths(section, amounts: list[list[str]], font: str) -> list[float]:
    """Columns fitted to their longest text as ours fits them (figures share one advance width)."""

    def fit(texts, floor: float, ceiling: float) -> float:
        longest = max(texts, key=len, default="")
        return min(max(stringWidth(longest, font, TABLE_FONT_SIZE) + 2 * CELL_PAD + 1, floor), ceiling)

    figures = [fit([row[col] for row in amounts], 16.5 * mm, 33 * mm) for col in range(len(section.columns))]
    reference = fit([line.reference for line in section.lines], 17 * mm, 34 * mm)
    details = [fit([line.contract_no for line in section.lines], 16 * mm, 24 * mm),
               fit([line.voucher_no for line in section.lines], 16.5 * mm, 26 * mm)] if section.detail_columns else []
    free = CONTENT_WIDTH - 8 * mm - reference - sum(figures) - sum(details)
    name = fit([line.name for line in section.lines], free * 0.35, max(free * 0.35, free - 24 * mm))
    return [8 * mm, reference, name, *figures, *details, free - name]


def _lines(text: str, width: float, font: str, cache: dict[str, list[str]]) -> list[str]:
    """Greedy wrap at any character, cached per text (the least a renderer must do to keep text on the page)."""
    lines = cache.get(text)
    if lines is None and "\n" not in text and stringWidth(text, font, TABLE_FONT_SIZE) <= width:
        lines = [text]  # most cells: one measurement
    elif lines is None:
        lines, start, used = [], 0, 0.0
        for index, char in enumerate(text):
            if char == "\n":
                lines.append(text[start:index])
                start, used = index + 1, 0.0
                continue
            advance = stringWidth(char, font, TABLE_FONT_SIZE)
            if used + advance > width and index > start:
                lines.append(text[start:index])
                start, used = index, 0.0
            used += advance
        lines.append(text[start:])
        cache[text] = lines
    return lines


def _labels(statement: Statement) -> list[str]:
    section = statement.sections[0]
    details = ["贷款合同号", "付款日期/凭证号"] if section.detail_columns else []
    return ["序号", section.reference_label, section.name_label, *section.columns, *details, section.trace_label]


def _opening_texts(statement: Statement) -> list[str]:
    """The title, the addressee block and the section heading, one string each."""
    institution = statement.institution
    return [
        statement.title,
        f"对账单编号 {statement.number}", f"版本 第 {statement.version} 版",
        f"合作机构 {institution.name}", f"统一社会信用代码 {institution.code}",
        f"项目 {statement.program.name}（{statement.program.code}）", f"出具日期 {statement.issue_date}",
        f"结算期间 {statement.period_label} {statement.period_start}至{statement.period_end}",
        f"期初余额（元） {format_amount(statement.opening_fen)}",
        f"一、{statement.sections[0].title}",
    ]


def _closing_texts(statement: Statement) -> list[str]:
    """The subtotal, totals, budget and signature blocks, one string per row."""
    t, budget = statement.totals, statement.budget
    texts = [f"小计 {format_amount(section.subtotal_fen)}" for section in statement.sections]
    texts += [
        "二、本期汇总",
        f"期初余额 {format_amount(statement.opening_fen)}",
        f"本期已拨付代偿（补偿）款 {format_amount(t.claims_paid_fen)} 加项",
        f"本期贴息、贴保等补贴 {format_amount(t.subsidies_fen)} 加项",
        f"本期机构奖励 {format_amount(t.rewards_fen)} 加项",
        f"本期退回追偿款 {format_amount(t.recoveries_returned_fen)} 减项",
        f"本期净额 {format_amount(t.period_net_fen)}",
        f"期末余额 {format_amount(t.net_fen)}",
        f"期末余额人民币（大写） {rmb_upper(abs(t.net_fen))}",
        f"{budget.fiscal_year}年度项目预算（元） {format_amount(budget.annual_fen)}",
        f"年初至今已使用（元） {format_amount(budget.used_ytd_fen)} 使用率 {budget.used_percent}%",
    ]
    texts += [f"{party.role}：{party.name}（盖章） 经办人签字： 日期：    年   月   日" for party in statement.signatures]
    return texts
