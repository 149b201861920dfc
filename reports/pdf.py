"""Render a settlement statement to a deterministic A4 PDF with an embedded CJK font.

Same statement in, same bytes out: the document runs in reportlab's invariant mode and its
creation date is the statement's issue date, so the SHA-256 recorded with a statement can be
reproduced from the data at any later time.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from typing import BinaryIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer

from reports.cjk_text import chinese_ordinal
from reports.fonts import ensure_covered, register_cjk_font
from reports.pdf_layout import (BODY_FONT_SIZE, FOOTER_NOTE, FOOTER_TEMPLATE, GRID, MARGIN_BOTTOM, MARGIN_TOP,
                                MARGIN_X, PAGE_HEIGHT, PAGE_WIDTH, TEXT_LEFT, TEXT_RIGHT, SealBox, heading_style,
                                note_style, paragraph, title_style)
from reports.pdf_sections import section_tables
from reports.pdf_tables import budget_table, header_table, receivables_tables, signature_table, totals_table
from reports.statement_model import Statement


@dataclass(frozen=True)
class RenderInfo:
    """What render_statement wrote: page count, SHA-256 hex digest and size in bytes."""

    pages: int
    sha256: str
    bytes: int
    seal: SealBox | None = None  # where the issuer's seal cell is, for the signature's visible field


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
    seals: list[SealBox] = []
    story = _story(statement, font, drawn, seals)
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
    return data, RenderInfo(pages=pages[-1], sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
                            seal=seals[-1] if seals else None)


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


def _story(statement: Statement, font: str, drawn: list[str], seals: list[SealBox]) -> list:
    """The flowables of the statement; every string they will draw is appended to drawn."""
    story: list = [
        paragraph(statement.title, title_style(font), drawn),
        Spacer(0, 3 * mm),
        header_table(statement, font, drawn),
        Spacer(0, 5 * mm),
    ]
    for number, section in enumerate(statement.sections, start=1):
        story.append(paragraph(f"{chinese_ordinal(number)}、{section.title}", heading_style(font), drawn))
        story.extend(section_tables(section, font, drawn))
        story.append(Spacer(0, 3 * mm))
    number = len(statement.sections) + 1
    story.append(paragraph(f"{chinese_ordinal(number)}、截至期末未到账的应收追偿款及账龄", heading_style(font), drawn))
    if statement.receivables:
        story.extend(receivables_tables(statement, font, drawn))
    else:
        story.append(paragraph("截至期末无未到账的应收追偿款。", note_style(font), drawn))
    story.append(Spacer(0, 3 * mm))
    summary_heading = f"{chinese_ordinal(number + 1)}、本期汇总"
    closing: list = [
        paragraph(summary_heading, heading_style(font), drawn),
        totals_table(statement, font, drawn),
        Spacer(0, 3 * mm),
        budget_table(statement, font, drawn),
    ]
    closing.extend(paragraph(note, note_style(font), drawn) for note in statement.notes)
    if statement.audit_head:
        closing.append(paragraph(f"出具时审计日志链头（SHA-256）：{statement.audit_head}", note_style(font), drawn))
    closing.extend([Spacer(0, 5 * mm), signature_table(statement, font, drawn, seals)])
    # The parties sign the totals, so totals, budget and signatures never part across a page break.
    story.append(KeepTogether(closing))
    return story


def _furniture_texts(statement: Statement) -> list[str]:
    """Strings the canvas draws on every page outside the story."""
    return [
        _running_header(statement),
        f"对账单编号 {statement.number}",
        FOOTER_TEMPLATE.format(page="0123456789", pages=""),
        FOOTER_NOTE,
    ]
