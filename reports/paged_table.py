"""A long table of plain-text rows that splits page by page in linear time.

reportlab's Table splits by building a new Table from every row that did not fit and measuring it
again, so each page costs work in proportion to the rows still to come (quadratic in the section).
PagedTable keeps all rows in one shared list, knows each row's height up front (every cell is a
string in one font, so a row is its tallest cell's line count times the leading, plus padding), and
on each split hands the frame a Table of just the rows that fit, with the header repeated, and keeps
the rest as a view on the same list. The pages come out as reportlab's own split would lay them out.
"""

from __future__ import annotations

from itertools import accumulate

from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.platypus import Flowable, Table, TableStyle
from reportlab.platypus.tables import LINECOMMANDS

# Points, reportlab's binary floats; amounts never pass through here.
Points = float
# Commands a Table keeps and applies while drawing; every other command sets cell styles up front.
_DRAWING_COMMANDS = frozenset(("BACKGROUND", "ROWBACKGROUNDS", "COLBACKGROUNDS", "SPAN", "NOSPLIT", *LINECOMMANDS))


class PagedTable(Flowable):
    """A header row and body rows of strings, drawn as one Table per page that repeats the header."""

    def __init__(
        self,
        header: list[str],
        body: list[list[str]],
        *,
        col_widths: list[Points],
        leading: Points,
        padding: Points,
        commands: list[tuple],
        last_row_commands: list[tuple] = (),
    ):
        super().__init__()
        self._header = header
        self._body = body
        self._col_widths = col_widths
        self._commands = [c for c in commands if c[0] in _DRAWING_COMMANDS]
        self._last_row_commands = [c for c in last_row_commands if c[0] in _DRAWING_COMMANDS]
        # Cell styles depend only on whether a row is the header, a body row or the last row, so they
        # are worked out once on a three-row stand-in and shared, rather than set cell by cell per page.
        styles = Table([header, body[0], body[-1]], colWidths=col_widths,
                       style=TableStyle([*commands, *last_row_commands]))._cellStyles
        self._header_styles, self._body_styles, self._last_styles = styles
        # The height reportlab's Table gives a row of string cells: lines x leading + top + bottom padding.
        self._header_height = _row_height(header, leading, padding)
        self._heights = [_row_height(row, leading, padding) for row in body]
        self._below = [*accumulate(reversed(self._heights), initial=0.0)][::-1]  # height of rows i.. to the end
        self._start = 0
        self.width = sum(col_widths)
        self.height = 0.0

    def _rest(self, start: int) -> PagedTable:
        # A view on the same rows: copy only this class's fields, not what the frame and the
        # document template set on the flowable (canv, _frame, _postponed).
        rest = object.__new__(PagedTable)
        Flowable.__init__(rest)
        for name in _OWN_FIELDS:
            setattr(rest, name, getattr(self, name))
        rest._start = start
        return rest

    def wrap(self, availWidth: Points, availHeight: Points) -> tuple[Points, Points]:
        """Width of the columns and height of the header plus every remaining row."""
        self._avail = availWidth, availHeight
        self.height = self._header_height + self._below[self._start]
        return self.width, self.height

    def split(self, availWidth: Points, availHeight: Points) -> list[Flowable]:
        """The rows that fit in availHeight as a Table, then the rest; nothing if no body row fits."""
        used = self._header_height
        if used > availHeight:
            return []
        end = self._start
        for height in self._heights[self._start :]:
            if used + height > availHeight:
                break
            used += height
            end += 1
        if end == self._start:
            return []
        if end == len(self._body):
            return [self._table(end)]
        return [self._table(end), self._rest(end)]

    def drawOn(self, canvas, x: Points, y: Points, _sW: Points = 0) -> None:
        """Draw every remaining row (the frame found they fit) as one Table."""
        table = self._table(len(self._body))
        table.wrap(*self._avail)
        table.drawOn(canvas, x, y, _sW)

    def _table(self, end: int) -> Table:
        count = end - self._start
        if end == len(self._body):
            commands = self._commands + self._last_row_commands
            styles = [self._header_styles, *[self._body_styles] * (count - 1), self._last_styles]
        else:
            commands = self._commands
            styles = [self._header_styles, *[self._body_styles] * count]
        return _PageTable(
            [self._header, *self._body[self._start : end]],
            colWidths=self._col_widths,
            rowHeights=[self._header_height, *self._heights[self._start : end]],
            repeatRows=1,
            normalizedData=1,  # every cell is already a str
            cellStyles=styles,
            style=TableStyle(commands),
        )


class _PageTable(Table):
    """A Table that sets all its string cells in one PDF text object rather than one per line.

    reportlab draws each line of each cell with canvas.drawString: a text object, a font selection and
    a BT/ET pair per string. Here the lines go into one text object per page table, placed exactly
    where Table._drawCell would put them, and are written out before the grid lines as before.
    """

    def draw(self) -> None:
        """Draw backgrounds, cells and lines as Table does, batching the text."""
        self._text = None
        super().draw()

    def _drawCell(self, cellval, cellstyle, pos, size) -> None:
        if not isinstance(cellval, str) or cellstyle.alignment == "DECIMAL" or cellstyle.direction or \
                cellstyle.shaping or cellstyle.href or cellstyle.destination:
            super()._drawCell(cellval, cellstyle, pos, size)
            return
        colpos, rowpos = pos
        colwidth, rowheight = size
        text = self._text
        if text is None:
            text = self._text = self.canv.beginText()
            self._text_style = None
        current = self._text_style
        if current is None or cellstyle.color != current.color:
            text.setFillColor(cellstyle.color)
        if current is None or (cellstyle.fontname, cellstyle.fontsize, cellstyle.leading) != \
                (current.fontname, current.fontsize, current.leading):
            text.setFont(cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
        self._text_style = cellstyle
        lines = cellval.split("\n")
        leading, fontsize = cellstyle.leading, cellstyle.fontsize
        # Table._drawCell's placement, line for line.
        if cellstyle.valign == "BOTTOM":
            y = rowpos + cellstyle.bottomPadding + len(lines) * leading - fontsize
        elif cellstyle.valign == "TOP":
            y = rowpos + rowheight - cellstyle.topPadding - fontsize
        else:
            y = rowpos + (cellstyle.bottomPadding + rowheight - cellstyle.topPadding + len(lines) * leading) / 2.0 \
                - fontsize
        just = cellstyle.alignment
        for line in lines:
            if line:
                if just == "LEFT":
                    x = colpos + cellstyle.leftPadding
                else:
                    width = getFont(cellstyle.fontname).stringWidth(line, fontsize)
                    if just == "RIGHT":
                        x = colpos + colwidth - cellstyle.rightPadding - width
                    else:
                        x = colpos + (colwidth + cellstyle.leftPadding - cellstyle.rightPadding) * 0.5 - 0.5 * width
                text.setTextOrigin(x, y)
                text.textLine(line)  # unlike textOut it does not measure the line; each line sets its own origin
            y -= leading

    def _drawLines(self) -> None:
        if self._text is not None:
            self.canv.drawText(self._text)
            self._text = None
        super()._drawLines()


_OWN_FIELDS = (
    "_header", "_body", "_col_widths", "_commands", "_last_row_commands", "_header_styles", "_body_styles",
    "_last_styles", "_header_height", "_heights", "_below", "width",
)


def _row_height(row: list[str], leading: Points, padding: Points) -> Points:
    return leading * max(cell.count("\n") + 1 for cell in row) + padding
