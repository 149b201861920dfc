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

import codecs
import csv
import datetime
import io
import itertools
import posixpath
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO, TextIO

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

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")


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
        records = _csv_records(stream)
    else:
        records = _xlsx_records(stream, max_uncompressed_bytes)
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


# --- CSV -------------------------------------------------------------------------------------


def _csv_records(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    nul_seen: list[bool] = []
    # Lines come from StringIO's C iterator over whole-line blocks: a Python step per block, not per line.
    lines = itertools.chain.from_iterable(
        io.StringIO(block, newline="") for block in _csv_blocks(stream, nul_seen))
    reader = csv.reader(lines, strict=False)
    strip = str.strip
    number = 0
    try:
        for record in reader:
            number += 1
            cells = list(map(strip, record))
            # Python 3.11's csv accepts NUL, but PostgreSQL text cannot hold it and it usually
            # means a binary file (a renamed .xls, UTF-16) was uploaded as CSV. Rows are only
            # searched once the decoder has met a NUL, which it reports before yielding that text.
            if nul_seen and any("\x00" in cell for cell in cells):
                raise TabularError("csv_invalid", "the row contains NUL bytes; is this really a CSV file?", row=number)
            yield number, cells
    except csv.Error as exc:
        raise TabularError("csv_invalid", f"the CSV cannot be parsed: {exc}", row=number + 1) from None


def _csv_blocks(stream: BinaryIO, nul_seen: list[bool]) -> Iterator[str]:
    """Decoded text cut after a line ending, so that no line (as ``open(newline="")`` splits them) spans two blocks.

    Appends to ``nul_seen`` when the text holds a NUL, before yielding any of it.
    """
    pending = ""
    for text in _decoded_chunks(stream):
        if not nul_seen and "\x00" in text:
            nul_seen.append(True)
        pending += text
        # A chunk may end between "\r" and "\n"; a final "\r" waits for the next chunk to say.
        cut = max(pending.rfind("\n"), pending.rfind("\r", 0, len(pending) - 1)) + 1
        if cut:
            yield pending[:cut]
            pending = pending[cut:]
        if len(pending) > MAX_CSV_LINE_CHARS:
            raise TabularError("csv_invalid", "a line is longer than 1 MiB; is this really a CSV file?")
    if pending:
        yield pending


def _decoded_chunks(stream: BinaryIO) -> Iterator[str]:
    """Decode UTF-8 (with or without BOM), switching to GB18030 if UTF-8 fails while all text so far was ASCII.

    ASCII reads the same in both encodings, so switching late loses nothing: a file with English
    headers and Chinese names from row 5 000 on is still read in one pass without seeking.
    """
    first = stream.read(CSV_CHUNK_BYTES)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TabularError(
            "csv_encoding", "the file is UTF-16 (Excel 'Unicode text'); save it as 'CSV UTF-8' instead"
        )
    has_bom = first.startswith(codecs.BOM_UTF8)
    if has_bom:
        first = first[len(codecs.BOM_UTF8):]
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding = "UTF-8"
    all_ascii = True
    chunk = first
    while True:
        final = not chunk
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            clean_prefix = all_ascii and exc.object[: exc.start].isascii()
            if encoding != "UTF-8" or has_bom or not clean_prefix:
                raise TabularError(
                    "csv_encoding",
                    f"the file is neither UTF-8 nor GB18030 (bad bytes for {encoding}: {exc.reason}); "
                    "save it as 'CSV UTF-8'",
                ) from None
            buffered = decoder.getstate()[0]
            decoder = codecs.getincrementaldecoder("gb18030")()
            encoding = "GB18030"
            chunk = buffered + chunk
            continue
        if text:
            all_ascii = all_ascii and text.isascii()
            yield text
        if final:
            return
        chunk = stream.read(CSV_CHUNK_BYTES)


# --- XLSX ------------------------------------------------------------------------------------


def _xlsx_records(stream: BinaryIO, max_uncompressed_bytes: int) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        raise RuntimeError("openpyxl runs without defusedxml; refusing to parse uploaded XLSX")
    seekable = _seekable(stream)
    _inspect_zip(seekable, max_uncompressed_bytes)
    seekable.seek(0)
    try:
        workbook = openpyxl.load_workbook(seekable, read_only=True, data_only=True)
    except TabularError:
        raise
    except Exception as exc:  # openpyxl surfaces malformed parts as many unrelated types
        raise _xlsx_invalid(exc) from None
    try:
        if not workbook.worksheets:
            raise TabularError("xlsx_invalid", "the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        # Some writers store a wrong <dimension>; read-only mode would silently stop there.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise _xlsx_invalid(exc, row=number + 1) from None
            number += 1
            yield number, [cell_text(value) for value in values]
    finally:
        workbook.close()


def check_workbook(stream: BinaryIO, max_uncompressed_bytes: int) -> int:
    """Open an upload as an XLSX workbook (bomb checks first) and return its sheet count; TabularError if not one."""
    import openpyxl

    seekable = _seekable(stream)
    _inspect_zip(seekable, max_uncompressed_bytes)
    seekable.seek(0)
    try:
        workbook = openpyxl.load_workbook(seekable, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl surfaces malformed parts as many unrelated types
        raise _xlsx_invalid(exc) from None
    try:
        if not workbook.worksheets:
            raise TabularError("xlsx_invalid", "the workbook has no worksheet")
        return len(workbook.worksheets)
    finally:
        workbook.close()


def _xlsx_invalid(exc: BaseException, row: int | None = None) -> TabularError:
    # openpyxl wraps the parser's error (e.g. defusedxml's EntitiesForbidden) in a long ValueError.
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    return TabularError(
        "xlsx_invalid", f"the file is not a readable .xlsx workbook ({type(exc).__name__}: {exc})", row=row
    )


def _seekable(stream: BinaryIO) -> BinaryIO:
    if stream.seekable():
        return stream
    spooled = tempfile.SpooledTemporaryFile(max_size=16 * 2**20)
    shutil.copyfileobj(stream, spooled)
    return spooled


def _inspect_zip(stream: BinaryIO, max_uncompressed_bytes: int) -> None:
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise TabularError("xlsx_invalid", f"the file is not a valid .xlsx (zip) file: {exc}") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise TabularError("xlsx_bomb", f"the workbook has {len(members)} parts (limit {MAX_ZIP_MEMBERS})")
    total = 0
    for member in members:
        name = member.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise TabularError("xlsx_invalid", f"the workbook contains an unsafe part name {name!r}")
        total += member.file_size
        if total > max_uncompressed_bytes:
            raise TabularError(
                "xlsx_bomb",
                f"the workbook unpacks to more than {max_uncompressed_bytes // 2**20} MiB",
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_CHECK_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise TabularError(
                "xlsx_bomb",
                f"part {name!r} is compressed {ratio:.0f}:1 (limit {MAX_COMPRESSION_RATIO}:1)",
            )


def cell_text(value: object) -> str:
    """Render an openpyxl cell value as the text a user typed, without float artifacts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Shortest text Excel itself would show: 15 significant digits, no exponent, no ".0".
        number = Decimal(format(value, f".{EXCEL_SIGNIFICANT_DIGITS}g")).normalize()
        return format(number, "f")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value).strip()


# --- export ----------------------------------------------------------------------------------


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


__all__ = [
    "Row",
    "TabularError",
    "cell_text",
    "neutralise_cell",
    "read_table",
    "write_csv",
]
