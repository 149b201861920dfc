"""Where files live: documents, statement PDFs and bulk reports, behind one Store with two backends.

The local filesystem under settings.data_dir is the embedded default; an S3-compatible object store
(settings.storage = "s3") is what several instances share. Callers name objects by key only (the helpers
below make the keys); no code outside this module knows a path. Writes go through a staged local file
(checked by the caller, then committed whole); reads come back as a bounded, rewound file whose digest is
checked before a byte of it is served.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from claims.errors import Conflict
from claims.settings import Settings

CHUNK = 1 << 16
SPOOL_BYTES = 1 << 20  # a read larger than this spills from memory to a temporary file


class StoreMissing(Conflict):
    """The database names an object the store does not hold."""


class StoreCorrupt(Conflict):
    """An object's bytes no longer match the SHA-256 recorded for them."""


def document_key(sha256: str) -> str:
    """The key of a document's bytes: content-addressed by their SHA-256."""
    return f"documents/{sha256[:2]}/{sha256}"


def statement_key(file_name: str) -> str:
    """The key of a statement PDF (the row's `path`, e.g. SZ-SME-POOL-2026Q3-BANK_A-v1.pdf)."""
    return f"statements/{file_name}"


def bulk_report_key(institution_id: int, report_id: str) -> str:
    """The key of a bulk loan registration's per-row CSV report."""
    return f"bulk-reports/loans-{institution_id}-{report_id}.csv"


class Store(Protocol):
    """An object store: whole objects by key, written from a staged file, read as a stream."""

    def stage(self) -> Path:
        """A new empty local file to write an object into before put_file commits it."""

    def put_file(self, key: str, staged: Path) -> None:
        """Commit a staged file as the object `key` (atomically: readers see nothing or all of it); consumes it."""

    def open(self, key: str) -> BinaryIO:
        """A readable stream of the object's bytes; StoreMissing when there is none."""

    def exists(self, key: str) -> bool:
        """Whether the object is held."""


class LocalStore:
    """Objects as files under a root directory (one machine, or a shared filesystem)."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"bad store key {key!r}")
        return self.root.joinpath(*parts)

    def stage(self) -> Path:
        """A temporary file in the store's staging folder (same filesystem, so committing is a rename)."""
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=staging)
        os.close(fd)
        return Path(name)

    def put_file(self, key: str, staged: Path) -> None:
        """Flush the staged file to disk and rename it into place."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(staged, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staged, target)

    def open(self, key: str) -> BinaryIO:
        """The file, opened for reading."""
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise StoreMissing(f"{key} is missing from storage.", code="stored_file_missing") from None

    def exists(self, key: str) -> bool:
        """Whether the file is there."""
        return self._path(key).is_file()


class S3Store:
    """Objects in one bucket of an S3-compatible server (AWS, MinIO, Ceph, moto), written with multipart uploads."""

    def __init__(self, *, bucket: str, endpoint_url: str = "", region: str = "", access_key: str = "",
                 secret_key: str = ""):
        import boto3  # only deployments that use S3 pay for importing it

        credentials = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key} if access_key else {}
        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                                   **credentials)

    def stage(self) -> Path:
        """A temporary local file to upload from."""
        fd, name = tempfile.mkstemp(prefix="claims-stage-")
        os.close(fd)
        return Path(name)

    def put_file(self, key: str, staged: Path) -> None:
        """Upload the staged file (an S3 PUT is atomic: the object appears whole) and remove it."""
        try:
            self.client.upload_file(str(staged), self.bucket, key)
        finally:
            staged.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        """The object's streaming body."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self.client.exceptions.NoSuchKey:
            raise StoreMissing(f"{key} is missing from storage.", code="stored_file_missing") from None

    def exists(self, key: str) -> bool:
        """Whether a HEAD of the object answers."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


@functools.cache
def store_for(settings: Settings) -> Store:
    """The store the settings choose (one per settings, so one S3 client per process)."""
    if settings.storage == "s3":
        return S3Store(bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint, region=settings.s3_region,
                       access_key=settings.s3_access_key, secret_key=settings.s3_secret_key)
    return LocalStore(settings.data_dir)


@contextmanager
def staged(store: Store) -> Iterator[Path]:
    """A staged file that is removed if the block fails or does not commit it."""
    path = store.stage()
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def put_bytes(store: Store, key: str, data: bytes) -> None:
    """Store a whole object held in memory (a rendered statement)."""
    with staged(store) as path:
        path.write_bytes(data)
        store.put_file(key, path)


def fetch(store: Store, key: str, *, sha256: str | None = None) -> BinaryIO:
    """The object copied into a rewound spooled file; with sha256, StoreCorrupt unless its digest matches."""
    digest = hashlib.sha256()
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        with store.open(key) as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise StoreCorrupt(f"{key} no longer matches its recorded SHA-256.", code="stored_file_corrupt")
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def read_bytes(store: Store, key: str) -> bytes | None:
    """The whole object, or None when it is missing (verification reports a missing file, it does not fail)."""
    try:
        with store.open(key) as source:
            return source.read()
    except StoreMissing:
        return None


def copy_to(store: Store, key: str, target: Path, *, sha256: str | None = None) -> None:
    """Copy an object into a local file (a tool such as pdftoppm needs a path), digest-checked."""
    with fetch(store, key, sha256=sha256) as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
