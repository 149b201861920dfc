"""Page geometry, colours, type sizes and paragraph styles shared by the statement's tables and its canvas."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table

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
SEQ_WIDTH = 8 * mm
REFERENCE_MIN_WIDTH = 17 * mm
REFERENCE_MAX_WIDTH = 34 * mm
AMOUNT_WIDTH = 16.5 * mm
MIN_TEXT_WIDTH = 50 * mm
MIN_TRACE_WIDTH = 24 * mm  # names get what they need first, down to this much left for the trace
MAX_CELL_LINES = 40

GRID = colors.HexColor("#8a8a8a")
HEADER_FILL = colors.HexColor("#e3e8ef")
STRIPE_FILL = colors.HexColor("#f6f7f9")
SUBTOTAL_FILL = colors.HexColor("#edf1e4")

FOOTER_NOTE = "本对账单附电子签章（PAdES），可离线验证"
# Strings drawn by the canvas rather than the story; their glyphs are checked up front too.
FOOTER_TEMPLATE = "第 {page} 页 / 共 {pages} 页"


def paragraph(text: str, style: ParagraphStyle, drawn: list[str]) -> Paragraph:
    # Paragraph parses markup: escape caller text so a name with "<" or "&" prints as written.
    drawn.append(text)
    return Paragraph(escape(text), style)


def table(rows: list[list[str]], drawn: list[str], **kwargs: object) -> Table:
    for row in rows:
        drawn.extend(cell for cell in row if isinstance(cell, str))
    return Table(rows, **kwargs)


@lru_cache(maxsize=4)
def title_style(font: str) -> ParagraphStyle:
    return ParagraphStyle("title", fontName=font, fontSize=15, leading=20, alignment=TA_CENTER, wordWrap="CJK")


@lru_cache(maxsize=4)
def heading_style(font: str) -> ParagraphStyle:
    return ParagraphStyle(
        "heading", fontName=font, fontSize=10.5, leading=14, spaceBefore=2, spaceAfter=3, wordWrap="CJK"
    )


@lru_cache(maxsize=4)
def note_style(font: str) -> ParagraphStyle:
    return ParagraphStyle("note", fontName=font, fontSize=8, leading=11, wordWrap="CJK")


@dataclass(frozen=True)
class SealBox:
    """Where the issuer's seal landed: a page index (0-based) and the box in PDF points from the bottom left."""

    page: int
    x1: float
    y1: float
    x2: float
    y2: float
