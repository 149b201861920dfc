"""Field types every schema shares: money as exact strings, identifiers checked by their standards.

A field's own error message ends with ` [code]` (e.g. `... [amount_not_string]`): the problem renderer
moves that code into `errors[].code`, so clients branch on codes, never on text.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, pre_load, validate, RAISE
from webargs.fields import DelimitedList

from workflows.identifiers import USCC_AUTHORITIES, IdentifierError, validate_resident_id, validate_uscc
from workflows.money import AmountError, format_fen, parse_amount, to_fen


def _utc_isoformat(value: datetime) -> str:
    # Timestamps are stored as naive UTC (SQLite drops offsets); RFC 3339 needs the offset on the wire.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _no_nul(value: str) -> None:
    # PostgreSQL text cannot hold NUL, and no name, code or note needs one.
    if "\x00" in value:
        raise ValidationError("Must not contain NUL (\\u0000) characters.")


class StrictSchema(Schema):
    """Base schema: unknown fields are an error, never silently dropped; timestamps leave with their UTC offset."""

    class Meta:
        unknown = RAISE

    def on_bind_field(self, field_name, field_obj):
        """Send naive (UTC) timestamps as RFC 3339 with +00:00; keep integers in 64 bits and text free of NUL."""
        if isinstance(field_obj, fields.DateTime) and not isinstance(field_obj, fields.NaiveDateTime):
            field_obj.SERIALIZATION_FUNCS = {**field_obj.SERIALIZATION_FUNCS, "iso": _utc_isoformat,
                                             "iso8601": _utc_isoformat}
        if isinstance(field_obj, fields.String):
            field_obj.validators.append(_no_nul)
        if isinstance(field_obj, fields.Integer) and not any(isinstance(v, validate.Range)
                                                             for v in field_obj.validators):
            field_obj.validators.append(validate.Range(min=-(2**63), max=2**63 - 1))

    @pre_load
    def _json_scalars_are_what_they_say(self, data, **kwargs):
        """In a JSON body a boolean is true or false and an integer a whole number: 1, "yes", 2.5 or "7" are refused."""
        # marshmallow's Boolean takes any truthy spelling and a non-strict Integer truncates 2.5 to 2; a JSON
        # body (a dict here; query strings and forms arrive as MultiDicts of text) says exactly what the contract
        # does. Whole numbers written 7.0 arrive as 7 already (parsing._json_number).
        if not isinstance(data, dict):
            return data
        wrong = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if key not in data or data[key] is None:
                continue
            inner = field.inner if isinstance(field, fields.List) else None
            values = data[key] if inner is not None and isinstance(data[key], list) else [data[key]]
            kind = inner if inner is not None else field
            for value in values:
                if isinstance(kind, fields.Boolean) and not isinstance(value, bool):
                    wrong[key] = ["Not a valid boolean."]
                elif isinstance(kind, fields.Integer) and (isinstance(value, bool) or not isinstance(value, int)):
                    wrong[key] = ["Not a valid integer."]
        if wrong:
            raise ValidationError(wrong)
        return data


# A ratio in [0, 1] written plainly: "0", "0.0435", "1", "1.00" (at most 12 decimals).
RATIO_PATTERN = re.compile(r"^(0(\.[0-9]{1,12})?|1(\.0{1,12})?)$")


def _uscc_pattern() -> str:
    """GB 32100's shape: a registration authority and one of its entity types, six digits, ten of the alphabet."""
    pairs = "|".join(f"{a}[{''.join(types)}]" for a, (_, types) in USCC_AUTHORITIES.items())
    alphabet = "0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy"
    # Lower case is accepted (and upper-cased), so the pattern says so; the check character is not expressible.
    return f"^(?:{pairs.replace('A[', '[Aa][').replace('N[', '[Nn][').replace('Y[', '[Yy][')})[0-9]{{6}}[{alphabet}]{{10}}$"


USCC_PATTERN = _uscc_pattern()


class Money(fields.Field):
    """A CNY amount as a JSON string with at most two decimals, loaded as integer fen."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "format": "decimal", "pattern": r"^[0-9]{1,15}(\.[0-9]{1,2})?$",
                    "example": "12345.60", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_fen(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return to_fen(parse_amount(value))
        except AmountError as exc:
            raise ValidationError(f"{exc.message} [{exc.code}]") from exc


class Ratio(fields.Field):
    """An exact ratio or rate as a decimal string (e.g. "0.0435"), loaded as Decimal."""

    def __init__(self, *, low: Decimal = Decimal(0), high: Decimal = Decimal(1), **kwargs):
        self.low, self.high = low, high
        metadata = {"type": "string", "format": "decimal", "pattern": RATIO_PATTERN.pattern, "example": "0.0435",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Must be a decimal string such as \"0.0435\".")
        # The pattern the contract states is the one enforced: no exponent, sign, underscore or blank.
        if not RATIO_PATTERN.fullmatch(value):
            raise ValidationError(f"Must be a plain decimal between {self.low} and {self.high}, e.g. \"0.0435\".")
        result = Decimal(value)
        if not self.low <= result <= self.high:
            raise ValidationError(f"Must be a plain decimal between {self.low} and {self.high}.")
        return result


class Uscc(fields.String):
    """A 统一社会信用代码, validated (GB 32100 alphabet and MOD-31 check digit) and normalised."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"example": "91440305MA1UPTX283", "minLength": 18, "maxLength": 18,
                                   "format": "uscc", "pattern": USCC_PATTERN, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return validate_uscc(super()._deserialize(value, attr, data, **kwargs))
        except IdentifierError as exc:
            raise ValidationError(f"{exc} [{exc.code}]") from exc


class ResidentId(fields.String):
    """A resident identity number (GB 11643, MOD 11-2), validated and normalised."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"format": "resident-id", "minLength": 18, "maxLength": 18,
                                   "pattern": "^[0-9]{17}[0-9Xx]$", **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return validate_resident_id(super()._deserialize(value, attr, data, **kwargs))
        except IdentifierError as exc:
            raise ValidationError(f"{exc} [{exc.code}]") from exc




class Choices(DelimitedList):
    """One value or several, comma-separated, each from a fixed set (an enum); loaded as the same comma-separated text."""

    def __init__(self, choices, **kwargs):
        super().__init__(fields.String(validate=validate.OneOf(sorted(choices))), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return ",".join(super()._deserialize(value, attr, data, **kwargs))


class UpdatedSince(fields.AwareDateTime):
    """`updated_since`: an RFC 3339 timestamp (UTC if it has no offset), loaded as naive UTC like the stored ones."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, metadata={
            "description": "Only rows changed at or after this time (RFC 3339; UTC when no offset), for a "
                           "nightly sync: keep the largest updated_at you saw", "example": "2026-03-01T00:00:00Z"},
            **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC).replace(tzinfo=None)
