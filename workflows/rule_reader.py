"""Typed, key-by-key reading of a parsed program file that collects every error with its key path."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from workflows.money import AmountError, parse_amount, to_fen

_MISSING = object()


class ErrorSink:
    """Collects "key: problem" messages for one file so all of them can be reported at once."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[tuple[str, str]] = []

    def add(self, key: str, problem: str) -> None:
        """Record a problem at a key path."""
        self.problems.append((key, problem))

    def messages(self) -> list[str]:
        """Every problem as "file: key: problem"."""
        return [f"{self.filename}: {key}: {problem}" for key, problem in self.problems]


class Reader:
    """Reads one TOML table; every accessor records a problem and returns None instead of raising."""

    def __init__(self, table: dict, prefix: str, sink: ErrorSink):
        self.data = table
        self.prefix = prefix
        self.sink = sink
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        """The full dotted path of a key in this table."""
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str) -> None:
        """Record a problem at a key of this table."""
        self.sink.add(self.key(name), problem)

    def has(self, name: str) -> bool:
        """Tell whether the key is present."""
        return name in self.data

    def _get(self, name: str, required: bool):
        self._seen.add(name)
        if name not in self.data:
            if required:
                self.error(name, "is required")
            return _MISSING
        return self.data[name]

    def raw(self, name: str, required: bool = False):
        """The value as parsed from TOML, unchecked."""
        value = self._get(name, required)
        return None if value is _MISSING else value

    def string(self, name: str, required: bool = False, default: str | None = None) -> str | None:
        """A non-empty string."""
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not value.strip():
            self.error(name, f"must be a non-empty string, got {value!r}")
            return None
        return value

    def choice(self, name: str, choices: Iterable[str], required: bool = False, default: str | None = None) -> str | None:
        """One string out of a fixed set."""
        allowed = tuple(choices)
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if value not in allowed:
            self.error(name, f"must be one of {', '.join(allowed)}; got {value!r}")
            return None
        return value

    def boolean(self, name: str, required: bool = False, default: bool | None = None) -> bool | None:
        """true or false."""
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.error(name, f"must be true or false, got {value!r}")
            return None
        return value

    def integer(self, name: str, required: bool = False, default: int | None = None, minimum: int | None = 0) -> int | None:
        """A whole number, at least `minimum` unless that is None."""
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(name, f"must be a whole number, got {value!r}")
            return None
        if minimum is not None and value < minimum:
            self.error(name, f"must be at least {minimum}, got {value}")
            return None
        return value

    def decimal(self, name: str, required: bool = False) -> Decimal | None:
        """An exact decimal written as a TOML number or a string."""
        value = self._get(name, required)
        if value is _MISSING:
            return None
        return self._to_decimal(name, value)

    def _to_decimal(self, name: str, value) -> Decimal | None:
        if isinstance(value, bool):
            self.error(name, f"must be a decimal number, got {value!r}")
            return None
        if isinstance(value, Decimal | int):
            result = Decimal(value)
        elif isinstance(value, str):
            try:
                result = Decimal(value.strip())
            except ArithmeticError:
                self.error(name, f"must be a decimal number, got {value!r}")
                return None
        else:
            self.error(name, f"must be a decimal number, got {value!r}")
            return None
        if not result.is_finite():
            self.error(name, f"must be a finite number, got {value!r}")
            return None
        return result

    def ratio(self, name: str, required: bool = False) -> Decimal | None:
        """A ratio between 0 and 1 inclusive."""
        value = self.decimal(name, required)
        if value is None:
            return None
        if not Decimal(0) <= value <= Decimal(1):
            self.error(name, f"ratio must be between 0 and 1, got {value}")
            return None
        return value

    def amount_fen(self, name: str, required: bool = False) -> int | None:
        """A yuan amount written as a string ("3000000.00"), returned in fen."""
        value = self._get(name, required)
        if value is _MISSING:
            return None
        return self.amount_value(name, value)

    def amount_value(self, name: str, value) -> int | None:
        """Check an amount already taken from the table."""
        try:
            return to_fen(parse_amount(value))
        except AmountError as exc:
            self.error(name, f"must be a yuan amount string like \"3000000.00\" ({exc.message})")
            return None

    def date_value(self, name: str, required: bool = False) -> date | None:
        """A date written as a TOML date or an ISO string."""
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if isinstance(value, datetime):
            self.error(name, f"must be a date without a time, got {value!r}")
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.error(name, f"must be a date like 2024-01-01, got {value!r}")
        return None

    def strings(self, name: str, required: bool = False, choices: Iterable[str] | None = None) -> tuple[str, ...] | None:
        """A list of strings, optionally out of a fixed set."""
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.error(name, f"must be a list of strings, got {value!r}")
            return None
        if choices is not None:
            allowed = set(choices)
            wrong = [v for v in value if v not in allowed]
            if wrong:
                self.error(name, f"unknown value(s) {', '.join(wrong)}; allowed: {', '.join(sorted(allowed))}")
                return None
        return tuple(value)

    def table(self, name: str, required: bool = False) -> Reader | None:
        """A sub-table."""
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.error(name, "must be a table")
            return None
        return Reader(value, self.key(name), self.sink)

    def tables(self, name: str, required: bool = False) -> list[Reader]:
        """An array of tables ([[name]])."""
        value = self._get(name, required)
        if value is _MISSING:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.error(name, "must be an array of tables")
            return []
        return [Reader(item, f"{self.key(name)}[{i}]", self.sink) for i, item in enumerate(value)]

    def finish(self) -> None:
        """Report every key in the table that no accessor asked for."""
        for name in self.data:
            if name not in self._seen:
                self.error(name, "unknown key")


def resolve_key(document: dict, path: str) -> bool:
    """Tell whether a dotted key path such as "compensation.bands[1].ratio" exists in the document."""
    node: object = document
    for part in path.split("."):
        name, _, rest = part.partition("[")
        if not isinstance(node, dict) or name not in node:
            return False
        node = node[name]
        while rest:
            index_text, _, rest = rest.partition("]")
            rest = rest.removeprefix("[")
            if not index_text.isdigit() or not isinstance(node, list) or int(index_text) >= len(node):
                return False
            node = node[int(index_text)]
    return True
