"""Find, register and check the CJK TrueType font that statements embed.

reportlab's built-in CID fonts (STSong-Light) are not embedded and show boxes where no Chinese font
is installed, and a TrueType font silently drops characters it has no glyph for, so we embed
WenQuanYi Zen Hei and refuse to draw any text it cannot cover.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_ENV = "CLAIMS_CJK_FONT"
DEFAULT_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
INSTALL_HINT = (
    "install it with `sudo apt-get install fonts-wqy-zenhei` (the Makefile's setup target does this) "
    f"or point {FONT_ENV} at a TrueType (.ttf/.ttc with TrueType outlines) CJK font"
)

_registered: dict[Path, str] = {}
_lock = threading.Lock()


class FontNotFoundError(RuntimeError):
    """The CJK font file is missing or unusable."""


class MissingGlyphError(ValueError):
    """Text to be drawn contains characters the embedded font has no glyph for."""

    def __init__(self, font_name: str, missing: dict[str, str]):
        self.font_name = font_name
        self.characters = tuple(missing)
        described = "; ".join(
            f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}) in {where!r}"
            for char, where in missing.items()
        )
        super().__init__(f"font {font_name} has no glyph for {len(missing)} character(s): {described}")


def font_path() -> Path:
    """The CJK font file to use: $CLAIMS_CJK_FONT if set, else Debian's fonts-wqy-zenhei."""
    override = os.environ.get(FONT_ENV, "").strip()
    path = Path(override) if override else DEFAULT_FONT_PATH
    if not path.is_file():
        source = f"${FONT_ENV}" if override else "the default location"
        raise FontNotFoundError(f"CJK font not found at {path} ({source}); {INSTALL_HINT}")
    return path


def register_cjk_font() -> str:
    """Register the CJK font with reportlab once per path and return its registered name."""
    path = font_path()
    with _lock:
        name = _registered.get(path)
        if name is not None:
            return name
        name = f"ClaimsCJK{len(_registered)}"
        # A .ttc holds several faces; Zen Hei's first one is the proportional face we want.
        sub_font = {"subfontIndex": 0} if path.suffix.lower() in (".ttc", ".otc") else {}
        try:
            font = TTFont(name, str(path), **sub_font)
        except Exception as exc:  # reportlab raises TTFError or plain errors for CFF / damaged files
            raise FontNotFoundError(f"cannot load CJK font {path}: {exc}; {INSTALL_HINT}") from exc
        pdfmetrics.registerFont(font)
        _registered[path] = name
        return name


def ensure_covered(font_name: str, texts: Iterable[str]) -> None:
    """Raise MissingGlyphError naming every character in texts that the font cannot draw."""
    font = pdfmetrics.getFont(font_name)
    covered = font.face.charToGlyph
    texts = texts if isinstance(texts, (list, tuple)) else list(texts)
    # One pass in C over every character of every text; only a failure goes back for the texts to quote.
    chars: set[str] = set()
    chars.update(*texts)
    uncovered = {char for char in chars if ord(char) not in covered} - {"\n", "\r", "\t"}
    if not uncovered:
        return
    missing: dict[str, str] = {}
    for text in texts:
        for char in sorted(uncovered.intersection(text)):
            if char not in missing:
                missing[char] = text if len(text) <= 60 else text[:57] + "..."
    raise MissingGlyphError(font_name, missing)
