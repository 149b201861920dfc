"""CSV uploads read as records: UTF-8 (with or without BOM) or GB18030, streamed in whole-line blocks."""
from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from typing import BinaryIO

from claims.tabular.base import CSV_CHUNK_BYTES, MAX_CSV_LINE_CHARS, TabularError


def csv_records(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
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

