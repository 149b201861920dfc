"""XLSX uploads read as records, after the zip's declared sizes pass the bomb checks (see the package's notes)."""
from __future__ import annotations

import datetime
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import BinaryIO

from claims.tabular.base import (EXCEL_SIGNIFICANT_DIGITS, MAX_COMPRESSION_RATIO, MAX_ZIP_MEMBERS,
                                 RATIO_CHECK_FROM_BYTES, TabularError)


def xlsx_records(stream: BinaryIO, max_uncompressed_bytes: int) -> Iterator[tuple[int, list[str]]]:
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
