"""Chinese text for the statement: amounts as printed, dates, ordinals, and line breaking that fits a cell.

One number format everywhere: every amount a statement prints, in a column, a total or a note, goes
through format_amount.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.pdf_layout import MAX_CELL_LINES, Points
from workflows.money import format_fen, rmb_upper


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


# Simple line-breaking rules (a small part of Chinese kinsoku): closing punctuation never starts a
# line, opening punctuation never ends one, and runs of Latin letters and figures stay whole if they fit.
_NO_LINE_START = frozenset("，。、；：？！）》」』】%％,.;:?!)]")
_NO_LINE_END = frozenset("（《「『【([")
_LATIN_RUN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,%+-×/=")  # amounts stay whole


def wrap(text: str, font: str, size: Points, width: Points) -> str:
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


def signed_position(fen: int) -> str:
    return format_amount(fen) if fen <= 0 else "+" + format_amount(fen)


def net_direction(fen: int) -> str:
    if fen > 0:
        return "财政局应付机构"
    if fen < 0:
        return "机构应退回财政局"
    return "本期无应收应付"


def net_in_words(fen: int) -> str:
    words = rmb_upper(abs(fen))
    if fen > 0:
        return f"应付 人民币{words}"
    if fen < 0:
        return f"应收 人民币{words}"
    return f"人民币{words}"


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_ordinal(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
