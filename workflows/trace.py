"""The trace every computed amount carries: ordered steps of {step, value, detail}, JSON-serialisable."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from workflows.money import format_fen


def plain(value):
    """The value as JSON-ready data: Decimals and dates become strings, mappings and sequences are converted deeply."""
    # Most values are already plain; checking the exact type first keeps traces cheap.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class Trace:
    """An append-only list of computation steps."""

    def __init__(self) -> None:
        self.steps: list[dict] = []

    def add(self, step: str, value, detail: str | dict | None = None, **extra) -> None:
        """Record a step; Decimals and dates become strings so the trace stores as JSON."""
        entry = {"step": step, "value": plain(value), "detail": plain(detail) if detail is not None else ""}
        if extra:
            entry.update({k: plain(v) for k, v in extra.items()})
        self.steps.append(entry)

    def amount(self, step: str, fen: int, detail: str | dict | None = None, **extra) -> None:
        """Record a step whose value is an amount of money (shown in yuan, kept in fen too)."""
        self.add(step, format_fen(fen), detail, fen=fen, **extra)

    def as_list(self) -> list[dict]:
        """The steps as plain data."""
        return [dict(s) for s in self.steps]
