"""Streaming reader for uploaded CSV / XLSX tables, and a formula-safe CSV writer for exports.

Row numbers follow the spreadsheet convention: the header is row 1 (when it is the first
non-empty row) and ``Row.number`` is the row the user sees in Excel, counting empty rows. For CSV
it is the record number (a quoted value with line breaks still counts as one row), which is what
Excel shows when it opens the same file.

Errors are file-level and raised as ``TabularError``; reading is lazy, so some rows may already
have been yielded before an error is raised (a bad byte in row 50 000, or ``too_many_rows``).
Callers that must answer per row (bulk loan registration) should validate rows as they come but
commit nothing until the iterator is exhausted without a ``TabularError``.

XLSX hardening: before openpyxl sees the file we read the zip central directory and refuse
archives whose declared sizes are too large or too compressed. Declared sizes are enough because
``zipfile`` never inflates a member beyond its declared ``file_size`` (a lying entry ends in a CRC
error). XML entity attacks (billion laughs, external entities) are stopped by openpyxl parsing
through defusedxml when it is installed (``openpyxl.DEFUSEDXML``); we refuse to read XLSX at all if
that protection was switched off (``OPENPYXL_DEFUSEDXML=False``).
"""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import BinaryIO

from claims.tabular.base import MAX_ROWS, MAX_UNCOMPRESSED_BYTES, Row, TabularError
from claims.tabular.csv_text import csv_records
from claims.tabular.export import neutralise_cell, write_csv
from claims.tabular.xlsx import cell_text, check_workbook, xlsx_records


def read_table(
    stream: BinaryIO,
    filename: str,
    *,
    columns: Mapping[str, set[str]] | None = None,
    optional: Iterable[str] = (),
    max_rows: int = MAX_ROWS,
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
) -> Iterator[Row]:
    """Yield the non-empty data rows of a CSV or XLSX upload, keyed by canonical column names.

    ``columns`` maps each canonical key to its accepted header spellings (compared after NFKC
    folding, trimming and case-folding, so "金额（元）" matches "金额(元)"); every key is required
    unless listed in ``optional``, and absent optional keys read as "". Without ``columns`` the
    trimmed headers themselves are the keys. Every error, even an unsupported file type, is raised
    while iterating, never at call time.
    """
    kind = _file_kind(filename)
    if kind == "csv":
        records = csv_records(stream)
    else:
        records = xlsx_records(stream, max_uncompressed_bytes)
    yield from _rows(records, columns, frozenset(optional), max_rows)


def _file_kind(filename: str) -> str:
    extension = posixpath.splitext(filename.replace("\\", "/"))[1].lower()
    if extension == ".csv":
        return "csv"
    if extension in (".xlsx", ".xlsm"):
        return "xlsx"
    if extension in (".xls", ".et", ".xlsb", ".numbers", ".ods"):
        raise TabularError(
            "unsupported_type",
            f"{extension} files cannot be read; save the sheet as .xlsx or as CSV (UTF-8)",
        )
    raise TabularError("unsupported_type", f"expected a .csv or .xlsx file, got {filename!r}")


def _header_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _rows(
    records: Iterator[tuple[int, list[str]]],
    columns: Mapping[str, set[str]] | None,
    optional: frozenset[str],
    max_rows: int,
) -> Iterator[Row]:
    for number, header in records:  # noqa: B007 - the header's row number is used below
        if any(header):
            break
    else:
        raise TabularError("empty_file", "the file has no header row")
    keys, missing = _map_header(number, header, columns, optional)
    width, plain = len(keys), None not in keys
    yielded = 0
    for number, cells in records:
        if not any(cells):
            continue
        if yielded == max_rows:
            raise TabularError(
                "too_many_rows", f"the file has more than {max_rows} data rows", row=number
            )
        values = dict.fromkeys(missing, "")
        if plain and len(cells) == width:
            # The usual row: one cell under each named header, read in one C-level pass.
            values.update(zip(keys, cells, strict=True))
        else:
            for index, cell in enumerate(cells):
                key = keys[index] if index < width else None
                if key is not None:
                    values[key] = cell
                elif cell:
                    raise TabularError(
                        "unnamed_column",
                        f"column {_column_letter(index)} holds {cell!r} but has no header",
                        row=number,
                    )
            for key in keys[len(cells):]:
                if key is not None:
                    values[key] = ""
        yielded += 1
        yield Row(number, values)


def _map_header(
    number: int,
    header: list[str],
    columns: Mapping[str, set[str]] | None,
    optional: frozenset[str],
) -> tuple[list[str | None], list[str]]:
    if columns is None:
        aliases = {_header_key(name): name for name in header if name}
        wanted: set[str] = set()
    else:
        aliases = {}
        for key, names in columns.items():
            for name in (*names, key):
                aliases[_header_key(name)] = key
        wanted = set(columns) - optional
    keys: list[str | None] = []
    seen: dict[str, str] = {}
    for index, name in enumerate(header):
        if not name:
            keys.append(None)
            continue
        key = aliases.get(_header_key(name))
        if key is None:
            raise TabularError(
                "unknown_column",
                f"column {_column_letter(index)} header {name!r} is not one of the expected columns",
                row=number,
            )
        if key in seen:
            raise TabularError(
                "duplicate_column",
                f"headers {seen[key]!r} and {name!r} both name the column {key!r}",
                row=number,
            )
        seen[key] = name
        keys.append(key)
    absent = wanted - set(seen)
    if absent:
        raise TabularError(
            "missing_column", f"required columns missing: {', '.join(sorted(absent))}", row=number
        )
    return keys, sorted(optional - set(seen))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


__all__ = ["MAX_UNCOMPRESSED_BYTES", "Row", "TabularError", "cell_text", "check_workbook", "neutralise_cell",
           "read_table", "write_csv"]
