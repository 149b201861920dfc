"""Render a settlement statement to a deterministic A4 PDF with an embedded CJK font.

Same statement in, same bytes out: the document runs in reportlab's invariant mode and its
creation date is the statement's issue date, so the SHA-256 recorded with a statement can be
reproduced from the data at any later time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reports.fonts import ensure_covered, register_cjk_font
from reports.paged_table import PagedTable
from reports.statement_model import Statement, StatementSection
from workflows.money import format_fen, rmb_upper

# Long sections are cut into tables of at most this many rows, each starting with its header row.
# (It bounded reportlab's quadratic Table split; PagedTable now splits in linear time.)
CHUNK_ROWS = 500

# Page geometry is in PDF points (1/72 inch), reportlab's binary floats; amounts never pass through it.
Points = float

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 12 * mm
FRAME_PADDING = 6  # SimpleDocTemplate's frame pads its content by reportlab's default 6 pt
TEXT_LEFT = MARGIN_X + FRAME_PADDING
TEXT_RIGHT = PAGE_WIDTH - TEXT_LEFT
MARGIN_TOP = 18 * mm
MARGIN_BOTTOM = 20 * mm
CONTENT_WIDTH = TEXT_RIGHT - TEXT_LEFT

TABLE_FONT_SIZE = 7.5
TABLE_LEADING = 9.2
BODY_FONT_SIZE = 9
CELL_PAD_X = 3
CELL_PAD_TOP = 2  # line tables; a row is its cells' most lines x TABLE_LEADING plus these two
CELL_PAD_BOTTOM = 2.5
SEQ_WIDTH = 10 * mm
REFERENCE_MIN_WIDTH = 24 * mm
REFERENCE_MAX_WIDTH = 34 * mm
AMOUNT_WIDTH = 18 * mm
MIN_TEXT_WIDTH = 50 * mm
MAX_CELL_LINES = 40

GRID = colors.HexColor("#8a8a8a")
HEADER_FILL = colors.HexColor("#e3e8ef")
STRIPE_FILL = colors.HexColor("#f6f7f9")
SUBTOTAL_FILL = colors.HexColor("#edf1e4")

FOOTER_NOTE = "本对账单 SHA-256 摘要已由系统登记备查"
# Strings drawn by the canvas rather than the story; their glyphs are checked up front too.
FOOTER_TEMPLATE = "第 {page} 页 / 共 {pages} 页"


@dataclass(frozen=True)
class RenderInfo:
    """What render_statement wrote: page count, SHA-256 hex digest and size in bytes."""

    pages: int
    sha256: str
    bytes: int


def group_thousands(amount: str) -> str:
    """Insert thousands separators into a plain decimal string such as "-1234567.80"."""
    sign, digits = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
    whole, dot, fraction = digits.partition(".")
    head = len(whole) % 3 or 3
    groups = [whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)]
    return sign + ",".join(groups) + dot + fraction


def format_amount(fen: int) -> str:
    """Amount in yuan with two decimals and thousands separators, e.g. 1234560 -> "12,345.60"."""
    if type(fen) is not int:  # format_fen says what is wrong with it
        return group_thousands(format_fen(fen))
    # Every figure of every line passes through here: integer formatting, same text as group_thousands.
    if fen < 0:
        whole, cents = divmod(-fen, 100)
        return f"-{whole:,}.{cents:02d}"
    whole, cents = divmod(fen, 100)
    return f"{whole:,}.{cents:02d}"


def render_statement(statement: Statement, out: BinaryIO | str | os.PathLike[str]) -> RenderInfo:
    """Render the statement as PDF into a binary stream or a file path and describe what was written."""
    data, info = render_statement_bytes(statement)
    if isinstance(out, (str, os.PathLike)):
        with open(out, "wb") as handle:
            handle.write(data)
    else:
        out.write(data)
    return info


def render_statement_bytes(statement: Statement) -> tuple[bytes, RenderInfo]:
    """Render the statement as PDF and return its bytes with the RenderInfo."""
    font = register_cjk_font()
    drawn: list[str] = []
    story = _story(statement, font, drawn)
    ensure_covered(font, [*drawn, *_furniture_texts(statement)])
    buffer = io.BytesIO()
    pages: list[int] = []
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=f"{statement.title} {statement.number}",
        author=statement.issuer,
        subject=f"{statement.program.name} {statement.period_label}",
        creator="claims backend",
        invariant=1,
        pageCompression=1,
        initialFontName=font,
        initialFontSize=BODY_FONT_SIZE,
    )

    def make_canvas(*args: object, **kwargs: object) -> _NumberedCanvas:
        return _NumberedCanvas(*args, statement=statement, font=font, page_counts=pages, **kwargs)

    doc.build(story, canvasmaker=make_canvas)
    data = buffer.getvalue()
    return data, RenderInfo(pages=pages[-1], sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))


class _NumberedCanvas(rl_canvas.Canvas):
    """Canvas that holds pages back until the end so each footer can say "of y pages" (reportlab recipe)."""

    def __init__(self, *args, statement: Statement, font: str, page_counts: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self._statement = statement
        self._font = font
        self._page_counts = page_counts
        self._saved_page_states: list[dict] = []
        # Invariant mode pins the date to 2000-01-01; the issue date is the meaningful fixed date.
        issued = statement.issue_date
        self.setDateFormatter(lambda *_: f"D:{issued:%Y%m%d}000000+08'00'")

    def showPage(self) -> None:
        self._saved_page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved_page_states)
        for state in self._saved_page_states:
            self.__dict__.update(state)
            self._draw_page_furniture(total)
            rl_canvas.Canvas.showPage(self)
        self._page_counts.append(total)
        rl_canvas.Canvas.save(self)

    def _draw_page_furniture(self, total: int) -> None:
        statement = self._statement
        page = self._pageNumber
        self.saveState()
        self.setStrokeColor(GRID)
        self.setLineWidth(0.4)
        self.setFillColor(colors.HexColor("#444444"))
        self.setFont(self._font, 7.5)
        if page > 1:
            top = PAGE_HEIGHT - MARGIN_TOP + 6 * mm
            self.drawString(TEXT_LEFT, top, _running_header(statement))
            self.drawRightString(TEXT_RIGHT, top, statement.number)
            self.line(TEXT_LEFT, top - 2.5 * mm, TEXT_RIGHT, top - 2.5 * mm)
        base = MARGIN_BOTTOM - 10 * mm
        self.line(TEXT_LEFT, base + 4 * mm, TEXT_RIGHT, base + 4 * mm)
        self.drawString(TEXT_LEFT, base, f"对账单编号 {statement.number}")
        self.setFont(self._font, 8.5)
        self.drawCentredString(PAGE_WIDTH / 2, base, FOOTER_TEMPLATE.format(page=page, pages=total))
        self.setFont(self._font, 7.5)
        self.drawRightString(TEXT_RIGHT, base, FOOTER_NOTE)
        self.restoreState()


def _running_header(statement: Statement) -> str:
    party = statement.institution.name if statement.institution else "全部合作机构（汇总）"
    return f"{statement.program.name} · {party} · {statement.period_label}"


# ---------------------------------------------------------------- story


def _story(statement: Statement, font: str, drawn: list[str]) -> list:
    """The flowables of the statement; every string they will draw is appended to drawn."""
    story: list = [
        _paragraph(statement.title, _title_style(font), drawn),
        Spacer(0, 3 * mm),
        _header_table(statement, font, drawn),
        Spacer(0, 5 * mm),
    ]
    for number, section in enumerate(statement.sections, start=1):
        story.append(_paragraph(f"{_chinese_ordinal(number)}、{section.title}", _heading_style(font), drawn))
        story.extend(_section_tables(section, font, drawn))
        story.append(Spacer(0, 3 * mm))
    summary_heading = f"{_chinese_ordinal(len(statement.sections) + 1)}、本期汇总"
    closing: list = [
        _paragraph(summary_heading, _heading_style(font), drawn),
        _totals_table(statement, font, drawn),
        Spacer(0, 3 * mm),
        _budget_table(statement, font, drawn),
    ]
    closing.extend(_paragraph(note, _note_style(font), drawn) for note in statement.notes)
    closing.extend([Spacer(0, 5 * mm), _signature_table(statement, font, drawn)])
    # The parties sign the totals, so totals, budget and signatures never part across a page break.
    story.append(KeepTogether(closing))
    return story


def _paragraph(text: str, style: ParagraphStyle, drawn: list[str]) -> Paragraph:
    # Paragraph parses markup: escape caller text so a name with "<" or "&" prints as written.
    drawn.append(text)
    return Paragraph(escape(text), style)


def _table(rows: list[list[str]], drawn: list[str], **kwargs: object) -> Table:
    for row in rows:
        drawn.extend(row)
    return Table(rows, **kwargs)


@lru_cache(maxsize=4)
def _title_style(font: str) -> ParagraphStyle:
    return ParagraphStyle("title", fontName=font, fontSize=15, leading=20, alignment=TA_CENTER, wordWrap="CJK")


@lru_cache(maxsize=4)
def _heading_style(font: str) -> ParagraphStyle:
    return ParagraphStyle(
        "heading", fontName=font, fontSize=10.5, leading=14, spaceBefore=2, spaceAfter=3, wordWrap="CJK"
    )


@lru_cache(maxsize=4)
def _note_style(font: str) -> ParagraphStyle:
    return ParagraphStyle("note", fontName=font, fontSize=8, leading=11, wordWrap="CJK")


def _header_table(statement: Statement, font: str, drawn: list[str]) -> Table:
    label_width = 28 * mm
    value_width = CONTENT_WIDTH / 2 - label_width
    if statement.institution is not None:
        party, party_code = statement.institution.name, statement.institution.code
        party_label = "合作机构"
    else:
        party, party_code = "全部合作机构（项目汇总）", "—"
        party_label = "对账范围"
    period = f"{statement.period_label}\n{_chinese_date(statement.period_start)}至{_chinese_date(statement.period_end)}"
    pairs = [
        ("对账单编号", statement.number, "版本", f"第 {statement.version} 版"),
        (party_label, party, "统一社会信用代码", party_code),
        (
            "项目",
            f"{statement.program.name}（{statement.program.code}）",
            "出具日期",
            _chinese_date(statement.issue_date),
        ),
        ("结算期间", period, "期初余额（元）", _signed_position(statement.opening_fen)),
    ]
    widths = [label_width, value_width, label_width, value_width]
    rows = [
        [_wrap(text, font, BODY_FONT_SIZE - 0.5, width - 2 * CELL_PAD_X) for text, width in zip(row, widths, strict=True)]
        for row in pairs
    ]
    table = _table(rows, drawn, colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, BODY_FONT_SIZE - 0.5, BODY_FONT_SIZE + 2.5),
                ("BOX", (0, 0), (-1, -1), 0.8, GRID),
                ("INNERGRID", (0, 0), (-1, -1), 0.3, GRID),
                ("BACKGROUND", (0, 0), (0, -1), HEADER_FILL),
                ("BACKGROUND", (2, 0), (2, -1), HEADER_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X),
                ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_X),
            ]
        )
    )
    return table


def _fit_width(texts: list[str], font: str, floor: Points, ceiling: Points) -> Points:
    """Column width that fits the widest text (with padding) within [floor, ceiling]."""
    # Figures share one advance width in this font, so the longest string is the widest one.
    longest = max(texts, key=len, default="")
    return min(max(stringWidth(longest, font, TABLE_FONT_SIZE) + 2 * CELL_PAD_X + 1, floor), ceiling)


def _section_tables(section: StatementSection, font: str, drawn: list[str]) -> Iterator[Table | PagedTable]:
    amount_count = len(section.columns)
    amounts = [list(map(format_amount, line.amounts_fen)) for line in section.lines]
    subtotal_text = format_amount(section.subtotal_fen)
    subtotal_col = section.subtotal_column % amount_count
    amount_widths = [
        _fit_width(
            # A subtotal under a later column spans from the first amount column, so only a
            # subtotal under the first one has to fit in a single column.
            [row[col] for row in amounts] + ([subtotal_text] if col == subtotal_col == 0 else []),
            font,
            AMOUNT_WIDTH,
            2 * AMOUNT_WIDTH,
        )
        for col in range(amount_count)
    ]
    reference_width = _fit_width(
        [line.reference for line in section.lines], font, REFERENCE_MIN_WIDTH, REFERENCE_MAX_WIDTH
    )
    free = CONTENT_WIDTH - SEQ_WIDTH - reference_width - sum(amount_widths)
    if free < MIN_TEXT_WIDTH:
        raise ValueError(f"section {section.title}: {amount_count} amount columns do not fit across A4")
    # Names get what the longest one needs within 40-55 % of the free width; the trace takes the rest.
    name_width = _fit_width([line.name for line in section.lines], font, free * 0.4, free * 0.55)
    widths = [SEQ_WIDTH, reference_width, name_width, *amount_widths, free - name_width]
    trace_col = 3 + amount_count
    labels = ["序号", section.reference_label, section.name_label, *section.columns, section.trace_label]
    header = [_wrap(label, font, TABLE_FONT_SIZE, width - 2 * CELL_PAD_X) for label, width in zip(labels, widths, strict=True)]

    body: list[list[str]] = []
    for seq, (line, line_amounts) in enumerate(zip(section.lines, amounts, strict=True), start=1):
        body.append(
            [
                str(seq),
                _wrap(line.reference, font, TABLE_FONT_SIZE, widths[1] - 2 * CELL_PAD_X),
                _wrap(line.name, font, TABLE_FONT_SIZE, widths[2] - 2 * CELL_PAD_X),
                *line_amounts,
                _wrap(line.trace, font, TABLE_FONT_SIZE, widths[trace_col] - 2 * CELL_PAD_X),
            ]
        )
    if not body:
        body.append(["", "本期无此类事项", "", *[""] * amount_count, ""])
    subtotal = ["", "小计", "", *[""] * amount_count, ""]
    subtotal[3] = subtotal_text

    subtotal_commands = [
        ("SPAN", (1, -1), (2, -1)),
        ("BACKGROUND", (0, -1), (-1, -1), SUBTOTAL_FILL),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, GRID),
        ("ALIGN", (1, -1), (2, -1), "CENTER"),
        ("SPAN", (3, -1), (3 + subtotal_col, -1)),
    ]
    if not section.lines:
        commands = _table_commands(font, amount_count, empty=True) + subtotal_commands
        yield _table([header, *body, subtotal], drawn, colWidths=widths, repeatRows=1, style=TableStyle(commands))
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
            commands=_table_commands(font, amount_count, empty=False),
            last_row_commands=subtotal_commands if last else [],
        )


def _table_commands(font: str, amount_count: int, *, empty: bool) -> list[tuple]:
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


def _totals_table(statement: Statement, font: str, drawn: list[str]) -> Table:
    t = statement.totals
    rows = [
        ["项目", "金额（元）", "说明"],
        ["期初余额", _signed_position(statement.opening_fen), "正数为财政局应付机构，负数为机构应退回"],
        ["本期已拨付代偿（补偿）款", format_amount(t.claims_paid_fen), "加项"],
        ["本期贴息、贴保等补贴", format_amount(t.subsidies_fen), "加项"],
        ["本期机构奖励", format_amount(t.rewards_fen), "加项"],
        ["本期退回追偿款", format_amount(t.recoveries_returned_fen), "减项"],
        ["本期净额", _signed_position(t.net_fen), _net_direction(t.net_fen)],
        ["净额人民币（大写）", _net_in_words(t.net_fen), ""],
    ]
    widths = [52 * mm, 40 * mm, CONTENT_WIDTH - 92 * mm]
    return _table(
        rows,
        drawn,
        colWidths=widths,
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, BODY_FONT_SIZE - 0.5, BODY_FONT_SIZE + 3),
                ("BOX", (0, 0), (-1, -1), 0.8, GRID),
                ("INNERGRID", (0, 0), (-1, -1), 0.3, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("ALIGN", (1, 1), (1, -2), "RIGHT"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("BACKGROUND", (0, -2), (-1, -1), SUBTOTAL_FILL),
                ("FONT", (0, -2), (-1, -1), font, BODY_FONT_SIZE + 0.5, BODY_FONT_SIZE + 3),
                ("SPAN", (1, -1), (2, -1)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
                ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
            ]
        ),
    )


def _budget_table(statement: Statement, font: str, drawn: list[str]) -> Table:
    budget = statement.budget
    used = budget.used_percent
    rows = [
        [f"{budget.fiscal_year}年度项目预算（元）", "年初至今已使用（元）", "尚余（元）", "使用率"],
        [
            format_amount(budget.annual_fen),
            format_amount(budget.used_ytd_fen),
            format_amount(budget.annual_fen - budget.used_ytd_fen),
            "—" if used is None else f"{used}%",
        ],
    ]
    return _table(
        rows,
        drawn,
        colWidths=[CONTENT_WIDTH / 4] * 4,
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, BODY_FONT_SIZE - 0.5, BODY_FONT_SIZE + 3),
                ("BOX", (0, 0), (-1, -1), 0.8, GRID),
                ("INNERGRID", (0, 0), (-1, -1), 0.3, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("ALIGN", (0, 1), (-1, 1), "RIGHT"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
                ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
            ]
        ),
    )


def _signature_table(statement: Statement, font: str, drawn: list[str]) -> Table:
    parties = statement.signatures
    # A lone signer (a summary) gets a half-width block on the right, where Chinese documents sign.
    width = CONTENT_WIDTH / max(len(parties), 2)
    inner = width - 2 * (CELL_PAD_X + 2)
    rows = [
        [_wrap(f"{party.role}：{party.name}", font, BODY_FONT_SIZE, inner) for party in parties],
        ["（盖章）"] * len(parties),
        ["经办人签字："] * len(parties),
        ["日期：        年      月      日"] * len(parties),
    ]
    return _table(
        rows,
        drawn,
        colWidths=[width] * len(parties),
        hAlign="RIGHT",
        rowHeights=[None, 26 * mm, 10 * mm, 9 * mm],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, BODY_FONT_SIZE, BODY_FONT_SIZE + 3),
                ("GRID", (0, 0), (-1, -1), 0.8, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
                ("VALIGN", (0, 1), (-1, 1), "TOP"),
                ("TEXTCOLOR", (0, 1), (-1, 1), colors.HexColor("#777777")),
                ("VALIGN", (0, 2), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 2),
                ("TOPPADDING", (0, 1), (-1, 1), 4),
            ]
        ),
    )


# ---------------------------------------------------------------- text helpers


def _furniture_texts(statement: Statement) -> list[str]:
    """Strings the canvas draws on every page outside the story."""
    return [
        _running_header(statement),
        f"对账单编号 {statement.number}",
        FOOTER_TEMPLATE.format(page="0123456789", pages=""),
        FOOTER_NOTE,
    ]


# Simple line-breaking rules (a small part of Chinese kinsoku): closing punctuation never starts a
# line, opening punctuation never ends one, and runs of Latin letters and figures stay whole if they fit.
_NO_LINE_START = frozenset("，。、；：？！）》」』】%％,.;:?!)]")
_NO_LINE_END = frozenset("（《「『【([")
_LATIN_RUN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.%+-×/=")


def _wrap(text: str, font: str, size: Points, width: Points) -> str:
    """Break text into lines that fit width; Chinese may break between any two characters."""
    if "\n" not in text and stringWidth(text, font, size) <= width:
        return text  # the common case, measured in one call to reportlab's accelerated width
    return _wrap_lines(text, font, size, width)


@lru_cache(maxsize=8192)
def _wrap_lines(text: str, font: str, size: Points, width: Points) -> str:
    # Cached because names and trace summaries repeat across thousands of lines of one statement.
    widths = _char_widths(font, size)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        start, used = 0, 0.0
        for index, char in enumerate(paragraph):
            w = widths.get(char)
            if w is None:
                w = widths[char] = stringWidth(char, font, size)
            if used + w > width and index > start:
                cut = next((b for b in range(index, start, -1) if _may_break_before(paragraph, b)), index)
                lines.append(paragraph[start:cut])
                start = cut
                used = sum(widths[c] for c in paragraph[start:index])
            used += w
        lines.append(paragraph[start:])
    if len(lines) > MAX_CELL_LINES:
        raise ValueError(f"text too long for one table cell ({len(lines)} lines): {text[:40]}...")
    return "\n".join(lines)


def _may_break_before(text: str, index: int) -> bool:
    before, char = text[index - 1], text[index]
    if char in _NO_LINE_START or before in _NO_LINE_END:
        return False
    return not (before in _LATIN_RUN and char in _LATIN_RUN)


@lru_cache(maxsize=16)
def _char_widths(font: str, size: Points) -> dict[str, Points]:
    # Shared per font and size: measuring 10k cells char by char through reportlab is the slow part.
    return {}


def _signed_position(fen: int) -> str:
    return format_amount(fen) if fen <= 0 else "+" + format_amount(fen)


def _net_direction(fen: int) -> str:
    if fen > 0:
        return "财政局应付机构"
    if fen < 0:
        return "机构应退回财政局"
    return "本期无应收应付"


def _net_in_words(fen: int) -> str:
    words = rmb_upper(abs(fen))
    if fen > 0:
        return f"应付 人民币{words}"
    if fen < 0:
        return f"应收 人民币{words}"
    return f"人民币{words}"


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _chinese_ordinal(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
