"""Request parsing, the one place a body is read: JSON depth and Unicode checked, multipart form+files together.

Every JSON body the API reads goes through `parse_json_body`: nesting deeper than MAX_JSON_DEPTH is 400
`json_too_deep` (so a body nested 5,000 deep never reaches a recursive decoder or schema), and a string
holding a lone UTF-16 surrogate (`"\\ud800"`, valid JSON escape but not Unicode text) is 422
`invalid_unicode` naming the field. The webargs parser below uses it for every `location="json"`.
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from webargs.multidictproxy import MultiDictProxy
from flask_smorest.fields import Upload
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from claims.errors import Problem, Unprocessable

# No document of this API nests deeper than 5 (a loan's attributes); 32 leaves room and bounds the work.
MAX_JSON_DEPTH = 32


class JsonTooDeep(Problem):
    status, code, title = 400, "json_too_deep", "JSON nested too deeply"


def parse_json_body(raw: bytes | str, **loads_options) -> Any:
    """Decode a JSON body, refusing deep nesting (400) and lone surrogates (422); JSONDecodeError on bad JSON."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if _nesting(text) > MAX_JSON_DEPTH:
        raise _too_deep()
    try:
        document = json.loads(text, **loads_options)
    except RecursionError:
        raise _too_deep() from None
    bad = _lone_surrogate_path(document)
    if bad is not None:
        raise Unprocessable(f"{bad or 'body'}: text contains a lone UTF-16 surrogate, which is not valid Unicode.",
                            code="invalid_unicode", errors={bad or "body": ["Lone UTF-16 surrogate in the text. [invalid_unicode]"]})
    return document


def _json_number(text: str) -> int | float:
    """A JSON number with a fraction or exponent: an int when it is a whole int64 (JSON says 7.0 is 7), else a float."""
    # JSON Schema's "integer" includes 7.0, so a client whose encoder writes whole numbers that way is not refused.
    try:
        exact = Decimal(text)
    except InvalidOperation:
        return float(text)
    if exact.is_finite() and exact == exact.to_integral_value() and abs(exact) < 2**63:
        return int(exact)
    return float(text)


def _too_deep() -> JsonTooDeep:
    return JsonTooDeep(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")


def _nesting(text: str) -> int:
    """The deepest bracket nesting outside strings, read without recursion (a bound on the parse's depth)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lone_surrogate_path(document: Any) -> str | None:
    """The dotted path of the first key or string holding a lone surrogate ("" for the top level), else None."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if _has_surrogate(key):
                    return path or "body"
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return None


class ClaimsParser(FlaskParser):
    """webargs' Flask parser with our JSON decoding and a `multipart` location (form fields and files at once)."""

    __location_map__ = dict(multipart="load_multipart", **FlaskParser.__location_map__)

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        try:
            return parse_json_body(req.get_data(cache=True), parse_float=_json_number)
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"Bytes decoding error : {exc.reason}", doc="", pos=exc.start) from exc

    def load_multipart(self, req, schema):
        """Form fields and uploaded files of a multipart/form-data body, as one mapping.

        A file field only ever comes from the files: a malformed part that werkzeug kept as text is absent.
        """
        form = MultiDict((k, v) for k, v in req.form.items(multi=True) if not isinstance(schema.fields.get(k), Upload))
        return MultiDictProxy(CombinedMultiDict([req.files, form]), schema)
