"""Uploaded documents are checked by parsing them, not by their first bytes alone.

An XLSX must open as a workbook (a ZIP renamed .xlsx does not); a PDF must parse with pypdf and may not
carry active content — JavaScript, launch actions, embedded files or rich media — that a reviewer's
viewer would run or open. Images are left to their signature: they are served as attachments only.
"""
from __future__ import annotations

import logging
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from claims.errors import Unprocessable, UnsupportedMediaType
from claims.tabular import MAX_UNCOMPRESSED_BYTES, TabularError, check_workbook

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# PDF names whose presence means content that runs or unpacks when the file is opened.
ACTIVE_NAMES = frozenset({"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia",
                          "/GoToE"})
MAX_PDF_OBJECTS = 200_000  # a walk bound: no evidence document comes near it
logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns on every repaired xref; the verdict is ours


def check_document(path: Path, content_type: str) -> None:
    """Refuse (415 or 422 problem) a file that does not parse as its type or carries active content."""
    if content_type == XLSX:
        try:
            with open(path, "rb") as fh:
                check_workbook(fh, MAX_UNCOMPRESSED_BYTES)
        except TabularError as exc:
            raise UnsupportedMediaType(f"The file is not a readable .xlsx workbook: {exc.detail}",
                                       code="document_not_parseable",
                                       errors={"file": ["not a readable XLSX workbook"]}) from None
    elif content_type == PDF:
        _check_pdf(path)


def _check_pdf(path: Path) -> None:
    try:
        reader = PdfReader(str(path), strict=False)
        if len(reader.pages) == 0:
            raise ValueError("no pages")
        found = _active_content(reader)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UnsupportedMediaType(f"The file does not parse as a PDF ({type(exc).__name__}).",
                                   code="document_not_parseable", errors={"file": ["not a readable PDF"]}) from None
    if found:
        raise Unprocessable("PDF 含有脚本或嵌入文件，已拒收 — the PDF carries active content "
                            f"({', '.join(sorted(found))}); print it to a plain PDF and upload that.",
                            code="document_active_content", errors={"file": sorted(found)})


def _active_content(reader: PdfReader) -> set[str]:
    """Every active-content name reachable from the trailer (keys, and /S action types)."""
    found: set[str] = set()
    stack, seen, visited = [reader.trailer], set(), 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            ref = (node.idnum, node.generation)
            if ref in seen:
                continue
            seen.add(ref)
            node = node.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(node, DictionaryObject):
            found.update(k for k in node.keys() if k in ACTIVE_NAMES)
            if node.get("/S") in ACTIVE_NAMES or node.get("/Type") in ACTIVE_NAMES:
                found.add(str(node.get("/S") if node.get("/S") in ACTIVE_NAMES else node.get("/Type")))
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return found
