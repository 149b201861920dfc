"""Every error leaves as application/problem+json (RFC 9457) with a stable `code`."""
from __future__ import annotations

import http
import logging
import re

from flask import current_app, g, json, request
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import prepare_response
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from claims.api import catalogue
from claims.db import DatabaseBusy, is_busy
from claims.errors import Problem
from claims.logs import mask_identifiers, mask_value

log = logging.getLogger(__name__)
PROBLEM_TYPE = "application/problem+json"

# Stable codes for the HTTP errors Flask and webargs raise on their own.
_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 412: "precondition_failed",
    413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
    428: "precondition_required", 429: "rate_limited", 500: "internal_error", 503: "service_unavailable",
}


class FieldErrorSchema(Schema):
    """One invalid field: where, which stable code, and a message for people."""

    field = fields.String(required=True, metadata={"description": "Dotted path of the field (e.g. `attributes.zone`)",
                                                   "example": "principal"})
    code = fields.String(required=True, metadata={"example": "amount_not_string"})
    message = fields.String(required=True, metadata={"example": "金额须为字符串（amount must be a string）"})


class ProblemSchema(Schema):
    """RFC 9457 problem details as this API emits them; extension members (reasons, available...) may follow."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True, metadata={"description": "URI of the code's entry in the error catalogue",
                                                  "example": "/errors/validation_failed"})
    title = fields.String(required=True, metadata={"description": "What the code means (Chinese unless "
                                                                  "Accept-Language prefers English)"})
    status = fields.Integer(required=True)
    detail = fields.String(metadata={"description": "This occurrence, in words"})
    code = fields.String(required=True, metadata={"description": "Stable machine-readable error code"})
    action = fields.String(metadata={"description": "What to do about it"})
    instance = fields.String()
    request_id = fields.String(metadata={"description": "The X-Request-Id to quote to support"})
    errors = fields.List(fields.Nested(FieldErrorSchema), metadata={"description": "Per-field errors"})


# Codes for marshmallow's own messages; our fields end theirs with " [code]".
_MESSAGE_CODES = (("Missing data for required field", "required"), ("Unknown field", "unknown_field"),
                  ("Not a valid", "invalid_type"), ("Invalid input type", "invalid_type"),
                  ("Must be one of", "not_allowed"), ("Length must", "length"), ("Shorter than", "length"),
                  ("Longer than", "length"), ("Must be greater", "out_of_range"), ("Must be less", "out_of_range"),
                  ("Field may not be null", "null_not_allowed"), ("String does not match", "pattern"),
                  ("Invalid value", "invalid"))
_CODE_SUFFIX = re.compile(r"\s*\[([a-z0-9_]+)\]$")


def field_errors(errors, problem_code: str) -> list[dict]:
    """Flatten {field: [message, ...]} (nested for nested fields) into [{field, code, message}]."""
    lang, out = catalogue.language(), []

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key)))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item, path)
        else:
            text = str(value)
            found = _CODE_SUFFIX.search(text)
            if found:
                code, text = found.group(1), text[:found.start()]
            else:
                code = next((c for prefix, c in _MESSAGE_CODES if text.startswith(prefix)), problem_code)
            label = catalogue.meaning(code, "", lang)
            message = f"{label}（{text}）" if lang == "zh" and label else text
            out.append({"field": path or "body", "code": code, "message": message})

    walk(errors, "")
    return out


def problem_response(status: int, code: str, title: str, detail: str, errors=None, extra=None, headers=None):
    """Build the Flask response tuple for one problem."""
    # Values echoed back (a bad USCC in a message, a path) leave with their identifiers masked.
    body = {"type": f"/errors/{code}", "title": catalogue.meaning(code, title), "status": status,
            "detail": mask_identifiers(detail), "code": code, "instance": mask_identifiers(request.path)}
    if g.get("request_id"):
        body["request_id"] = g.request_id
    hint = catalogue.action(code)
    if hint:
        body["action"] = hint
    if errors:
        body["errors"] = mask_value(field_errors(errors, code) if isinstance(errors, dict) else errors)
    if extra:
        body.update(mask_value(extra))
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class ProblemApi(Api):
    """flask-smorest Api whose error handler speaks problem+json instead of its default shape."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        """Document every error response as application/problem+json, the media type it is sent with."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def openapi_document(self) -> dict:
        """The served OpenAPI document: the generated spec completed by `finish_spec` (built once)."""
        if getattr(self, "_document", None) is None:
            from claims.api.spec import finish_spec

            self._document = finish_spec(self.spec.to_dict())
        return self._document

    def _openapi_json(self):
        return current_app.response_class(json.dumps(self.openapi_document(), ensure_ascii=False, indent=1, sort_keys=False),
                                          mimetype="application/json")

    def _register_pagination_header(self):
        """Document X-Pagination as the JSON object it carries (header `content`), not a simple-style header."""
        schema = self.ma_plugin.converter.schema2jsonschema(PaginationMetadataSchema)
        self.spec.components.header("PAGINATION", {"description": "Pagination metadata as JSON",
                                                   "content": {"application/json": {"schema": schema}}}, lazy=True)

    def handle_http_exception(self, error: HTTPException):
        """Render a werkzeug/webargs HTTP error as problem+json."""
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        if status == 422 and isinstance(errors, dict) and set(errors) <= {"json", "query", "form", "files",
                                                                           "multipart", "headers", "path"}:
            # webargs nests errors by location; one location is the common case: flatten it.
            errors = (errors.get("json") or errors.get("query") or errors.get("multipart") or errors.get("form")
                      or errors)
        detail = data.get("message") or error.description or error.name
        if status == 400 and "JSON" in json.dumps(errors or detail):
            return problem_response(400, "malformed_json", "Malformed JSON", "The request body is not valid JSON.")
        if status == 422 and errors:
            detail = "Some fields are invalid: " + ", ".join(sorted(map(str, errors)))
        if status >= 500:
            detail = "The server failed to handle the request; it has been logged."
        headers = dict(data.get("headers") or {})
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return problem_response(status, _HTTP_CODES.get(status, "http_error"), error.name, detail,
                                errors=errors, headers=headers)


def register_error_handlers(app) -> None:
    """Install the handlers for our own problems and for anything unexpected."""

    @app.errorhandler(Problem)
    def _problem(error: Problem):
        return problem_response(error.status, error.code, error.title, error.detail, error.errors,
                                error.extra, error.headers)

    @app.errorhandler(DataError)
    def _value_not_storable(error: DataError):
        # Schemas bound integers and refuse NUL; this nets what reaches the driver unchecked (path segments).
        log.warning("database refused a value on %s %s: %s", request.method, request.path,
                    error.orig.__class__.__name__)
        return problem_response(422, "value_not_storable", "Value cannot be stored",
                                "A value in the request is out of range or contains a NUL character.")

    @app.errorhandler(DatabaseBusy)
    def _database_busy(_error: DatabaseBusy):
        return problem_response(503, "database_busy", "Database busy",
                                "Other writes hold the database; nothing was written. Retry shortly.",
                                headers={"Retry-After": "1"})

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError):
        log.error("database unavailable: %s", error.orig.__class__.__name__)
        if is_busy(error):
            return _database_busy(DatabaseBusy())
        if error.connection_invalidated or _is_connection_error(error):
            return problem_response(503, "database_unavailable", "Service temporarily unavailable",
                                    "The database is not reachable; retry shortly.", headers={"Retry-After": "5"})
        return _internal(error)

    @app.errorhandler(Exception)
    def _internal(error: Exception):
        if isinstance(error, HTTPException):
            return app.extensions["claims_api"].handle_http_exception(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500, "internal_error", "Internal server error",
                                "The server failed to handle the request; it has been logged.")


def _is_connection_error(error: DBAPIError) -> bool:
    message = str(error.orig).lower()
    return any(s in message for s in ("connection", "could not connect", "server closed", "terminating",
                                      "unable to open database", "disk i/o"))
