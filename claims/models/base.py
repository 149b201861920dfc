"""Column helpers shared by the tables: portable big-integer keys, money in fen, UTC timestamps."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Integer

# BigInteger keys do not autoincrement on SQLite; the variant keeps one definition for both databases.
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    """Now, as a naive UTC timestamp (SQLite drops offsets, so every timestamp is stored as UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


# JSON columns default through these, not `list` and `dict`: pydantic inspects a default factory's signature on
# every construction, and a builtin's is parsed from text (~60 us each, a tenth of building a claim).
def empty_list() -> list:
    """A new empty list (the default of a JSON list column)."""
    return []


def empty_dict() -> dict:
    """A new empty dict (the default of a JSON object column)."""
    return {}


def id_column() -> Column:
    """A fresh auto-incrementing primary-key column."""
    return Column(BigId, primary_key=True, autoincrement=True)


def fk_column(target: str, *, nullable: bool = False, index: bool = True, ondelete: str | None = None) -> Column:
    """A fresh big-integer foreign-key column."""
    return Column(BigId, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


def fen_column(*, nullable: bool = False, default: int | None = 0) -> Column:
    """A money column: integer fen, never a float or numeric."""
    return Column(BigInteger, nullable=nullable, default=default)


def timestamp_column(*, nullable: bool = False, index: bool = False) -> Column:
    """A UTC timestamp column: required ones default to now, optional ones (revoked_at, ...) to null."""
    return Column(DateTime(), nullable=nullable, default=None if nullable else utcnow, index=index)


def json_column(*, nullable: bool = False) -> Column:
    """A JSON document column (traces, parameters, audit data)."""
    return Column(JSON, nullable=nullable)
