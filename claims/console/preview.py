"""A picture of a PDF's first page for the claim page, drawn by poppler's pdftoppm and kept by content hash.

A browser's PDF viewer is a plug-in that headless and locked-down intranet browsers often lack, so the
page shows this image (which prints, too) and links to the PDF itself. The cache is per machine and
disposable; the PDF itself always comes from the store.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from claims.errors import ServiceUnavailable
from claims.storage import Store, copy_to, document_key

WIDTH = 560  # pixels: readable beside the trace, small enough to load at once


def first_page_png(store: Store, sha256: str, cache_dir: Path) -> Path:
    """The PNG of a stored PDF's first page, rendered once per distinct file into this machine's cache."""
    target = cache_dir / f"{sha256}-{WIDTH}.png"
    if target.is_file():
        return target
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise ServiceUnavailable("预览需要 poppler-utils (pdftoppm)：make os-packages 会安装它。", code="preview_unavailable")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as work:
        # pdftoppm reads a path: the bytes come from the store (digest-checked) into the scratch folder.
        source = Path(work) / "source.pdf"
        copy_to(store, document_key(sha256), source, sha256=sha256)
        stem = Path(work) / "page"
        done = subprocess.run([tool, "-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to-x", str(WIDTH), "-scale-to-y", "-1",
                               str(source), str(stem)], capture_output=True, timeout=30, check=False)
        made = stem.with_suffix(".png")
        if done.returncode != 0 or not made.is_file():
            raise ServiceUnavailable("无法生成该 PDF 的预览。", code="preview_failed")
        # Rename is atomic: two requests rendering at once leave one whole file.
        os.replace(made, target)
    return target
