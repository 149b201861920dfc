"""Multipart uploads (one file field named `file`, type checked by extension) and file downloads."""
from __future__ import annotations

import re
from urllib.parse import quote

from flask_smorest.fields import Upload

from claims.api.fields import StrictSchema
from claims.errors import Unprocessable

TABLE_SUFFIXES = (".csv", ".xlsx")


class UploadSchema(StrictSchema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8 or GB18030) or XLSX"})


def uploaded_file(files: dict, suffixes: tuple[str, ...] = TABLE_SUFFIXES):
    """The uploaded file, refused with 422 when its name has none of the accepted suffixes."""
    upload = files["file"]
    name = (upload.filename or "").lower()
    if not name.endswith(suffixes):
        raise Unprocessable(f"Upload a file ending in {' or '.join(suffixes)}.", code="unsupported_file_type",
                            errors={"file": [f"expected {', '.join(suffixes)}"]})
    return upload


def attachment(response, filename: str, *, fallback: str):
    """Send as a download named `filename` (RFC 6266 filename*), with an ASCII `fallback` for old clients.

    Werkzeug's own fallback strips non-ASCII letters, so a Chinese name became `filename=.pdf`.
    """
    suffix = re.search(r"\.[A-Za-z0-9]{1,8}$", filename or "")
    plain = fallback + (suffix.group(0).lower() if suffix else "")
    response.headers["Content-Disposition"] = (f'attachment; filename="{plain}"; '
                                               f"filename*=UTF-8''{quote(filename or plain, safe='')}")
    return response
