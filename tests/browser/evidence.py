"""Evidence files a bank uploads in the console tests: a one-page Chinese PDF and a small PNG, made here."""
from __future__ import annotations

import io
import struct
import zlib


def chinese_pdf(lines: list[str]) -> bytes:
    """A real one-page PDF with Chinese text in the embedded CJK font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from reports.fonts import register_cjk_font

    font = register_cjk_font()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setFont(font, 22)
    y = 780
    for line in lines:
        page.drawString(60, y, line)
        y -= 40
    page.showPage()
    page.save()
    return buffer.getvalue()


def png(width: int = 240, height: int = 160) -> bytes:
    """A PNG of a blue frame on white: enough to see that an image preview rendered."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            edge = x < 8 or y < 8 or x >= width - 8 or y >= height - 8
            row += bytes((31, 95, 168) if edge else (255, 255, 255))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))
