"""Exports: CSV with every cell as text, neutralised against formula injection."""
from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterable, Sequence
from typing import TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")


def neutralise_cell(value: str) -> str:
    """Prefix "'" to text a spreadsheet would run as a formula (OWASP CSV injection), sparing plain numbers."""
    if value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def write_csv(rows: Iterable[Sequence[object]], out: TextIO) -> None:
    """Write rows as CSV with every cell rendered as text and neutralised against formula injection.

    Open ``out`` with ``newline=""`` (and ``encoding="utf-8-sig"`` if Excel users will open it).
    """
    triggers = FORMULA_TRIGGERS
    # Plain text that starts with no trigger is written as it is; everything else takes the full path.
    csv.writer(out).writerows(
        [cell if type(cell) is str and not cell.startswith(triggers) else neutralise_cell(_export_text(cell))
         for cell in row]
        for row in rows
    )


def _export_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)

