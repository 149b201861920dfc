"""Multipart uploads: one file field named `file`, type checked by extension and content type."""
from __future__ import annotations

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
