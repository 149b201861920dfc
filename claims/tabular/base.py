"""What every table reader shares: the limits, a data row, and the one error a whole file fails with."""
from __future__ import annotations

from dataclasses import dataclass

MAX_ROWS = 100_000
MAX_UNCOMPRESSED_BYTES = 200 * 2**20
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 10_000
# Members this small cannot hurt whatever their ratio; tiny XML parts often compress > 100:1.
RATIO_CHECK_FROM_BYTES = 1 * 2**20
MAX_CSV_LINE_CHARS = 1 * 2**20
CSV_CHUNK_BYTES = 256 * 2**10
# Excel keeps 15 significant digits; the XML may hold 17 (1357.9500000000001 for 1357.95).
EXCEL_SIGNIFICANT_DIGITS = 15


@dataclass(frozen=True, slots=True)
class Row:
    """One non-empty data row: its spreadsheet row number and its values keyed by canonical column."""

    number: int
    values: dict[str, str]


class TabularError(ValueError):
    """The uploaded table cannot be read as a whole; ``code`` is stable, ``detail`` is for people."""

    def __init__(self, code: str, detail: str, *, row: int | None = None) -> None:
        super().__init__(detail if row is None else f"row {row}: {detail}")
        self.code = code
        self.detail = detail
        self.row = row

