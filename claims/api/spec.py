"""The API's Blueprint and the contract each operation states: a stable operationId, roles, security, headers, errors.

Views declare facts with small decorators (`allow(...)`, `if_match`, `etag`; `@idempotent` marks itself) and
`finish_spec` turns them into OpenAPI once, when the document is built: `security` (API key for
institutions, bearer token for staff), the roles in `x-roles` and in the description, the request and
response headers, and the problem+json error responses the operation can really answer.
"""
from __future__ import annotations

import functools
import re

from flask_smorest import Blueprint as SmorestBlueprint

from claims.api.parsing import ClaimsParser
from claims.errors import Forbidden
from claims.models.user import STAFF_ROLES

INSTITUTION = "institution"
EVERYONE = (INSTITUTION, *STAFF_ROLES)
ROLE_LABELS = {"institution": "合作机构 institution (X-API-Key)", "reviewer": "初审 reviewer", "approver": "复审/审批 approver",
               "payer": "拨付 payer", "admin": "管理员 admin", "auditor": "审计 auditor"}
_METHODS = ("get", "post", "put", "patch", "delete")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Blueprint(SmorestBlueprint):
    """flask-smorest Blueprint with our request parser and an operationId from the view: `<method>_<view_name>`."""

    ARGUMENTS_PARSER = ClaimsParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**SmorestBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}

    def arguments(self, schema, *args, **kwargs):
        """flask-smorest's, with a schema class made into its instance once, here, not by webargs on every request."""
        # Building a schema deep-copies and binds every field: a tenth of a millisecond per request for nothing,
        # as a loading schema keeps no state between loads.
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def route(self, rule, *, parameters=None, tags=None, **options):
        """Register a MethodView; each of its methods gets a stable operationId unless it names its own."""
        register = super().route(rule, parameters=parameters, tags=tags, **options)

        def decorator(view):
            for method in _METHODS:
                func = getattr(view, method, None)
                if func is not None:
                    manual = getattr(func, "_apidoc", {}).get("manual_doc", {})
                    if "operationId" not in manual:
                        setattr(view, method, self.doc(operationId=f"{method}_{_snake(view.__name__)}")(func))
            return register(view)

        return decorator


def allow(*roles: str):
    """Declare who may call the operation, in the contract (x-roles) and at the door (403 before the body is read)."""
    unknown = set(roles) - set(EVERYONE)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(func):
        # Checked before the arguments are parsed, so a caller of the wrong role learns 403, not which fields
        # its body got wrong; the service keeps its own checks (tenant, program grants, four eyes).
        @functools.wraps(func)
        def checked(*args, **kwargs):
            from claims.api import context

            _refuse_unless(context.principal(), roles)
            return func(*args, **kwargs)

        return SmorestBlueprint.doc(**{"x-roles": list(roles)})(checked)

    return decorator


def _refuse_unless(principal, roles: tuple[str, ...]) -> None:
    """403 with the code the services use for the same refusal: institution_only, else role_required."""
    if principal.roles & set(roles):
        return
    if set(roles) == {INSTITUTION}:
        raise Forbidden("Only an institution, with its API key, takes this action.", code="institution_only")
    principal.require(*roles)


def public(func):
    """Mark an operation that needs no credentials."""
    return SmorestBlueprint.doc(security=[])(func)


if_match = SmorestBlueprint.doc(**{"x-if-match": True})
etag = SmorestBlueprint.doc(**{"x-etag": True})

_HEADER = {"schema": {"type": "string"}}
RESPONSE_HEADERS = {
    "X-Request-Id": {"description": "请求编号：报告问题时请引用 / Request id (yours if you sent one); quote it to support",
                     **_HEADER},
    "X-RateLimit-Limit": {"description": "Requests allowed per window", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in this window", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Unix time the window resets", "schema": {"type": "integer"}},
    "ETag": {"description": "Version of the resource; send it back in If-Match to change it", **_HEADER},
    "Idempotent-Replayed": {"description": "true when this is the stored answer to an earlier request with the "
                                           "same Idempotency-Key", "schema": {"type": "string", "enum": ["true"]}},
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}},
}
REQUEST_HEADERS = {
    "RequestId": {"in": "header", "name": "X-Request-Id", "required": False, "description":
                  "Your own id for this request, echoed back and logged (up to 200 printable ASCII characters; "
                  "any other value is replaced by a generated one, as is a missing one)",
                  "schema": {"type": "string"}},
    "IdempotencyKey": {"in": "header", "name": "Idempotency-Key", "required": False, "description":
                       "Any unique string (e.g. a UUID) per logical write: a retry with the same key and body "
                       "replays the first answer (with Idempotent-Replayed: true) instead of writing again",
                       "schema": {"type": "string", "maxLength": 200}},
    "IfMatch": {"in": "header", "name": "If-Match", "required": True, "description":
                "The ETag you read (e.g. \"3\"); a stale one is 412, a missing one 428, a malformed one 400",
                "schema": {"type": "string", "pattern": "^(W/)?\"[0-9]+\"$", "example": "\"1\""}},
}
# (status, component name, description)
ERRORS = {
    400: ("BAD_REQUEST", "请求体不是有效 JSON 或嵌套过深 / Malformed or too deeply nested JSON"),
    401: ("UNAUTHORIZED", "缺少或无效的凭证 / Missing, invalid, revoked or expired credentials"),
    403: ("FORBIDDEN", "角色不允许此操作 / Your role may not take this action"),
    404: ("NOT_FOUND", "不存在或不属于本机构 / Not found (or not yours)"),
    405: ("METHOD_NOT_ALLOWED", "方法不允许（见 Allow 头）/ Method not allowed (see Allow)"),
    409: ("CONFLICT", "与当前状态冲突 / Conflicts with the current state"),
    412: ("PRECONDITION_FAILED", "ETag 已过期：请重新读取 / The resource changed since you read it"),
    413: ("PAYLOAD_TOO_LARGE", "请求过大 / Request too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的文件或媒体类型 / Unsupported media or file type"),
    422: ("UNPROCESSABLE_ENTITY", "字段校验失败（见 errors[]）/ Validation failed (see errors[])"),
    428: ("PRECONDITION_REQUIRED", "需要 If-Match / If-Match is required"),
    429: ("TOO_MANY_REQUESTS", "请求过于频繁（见 Retry-After）/ Rate limited (see Retry-After)"),
    503: ("SERVICE_UNAVAILABLE", "服务暂不可用（见 Retry-After）/ Temporarily unavailable (see Retry-After)"),
}


def finish_spec(spec: dict) -> dict:
    """Complete the generated document with what each operation's markers say (run once per app)."""
    components = spec.setdefault("components", {})
    components.setdefault("headers", {}).update(RESPONSE_HEADERS)
    components.setdefault("parameters", {}).update(REQUEST_HEADERS)
    responses = components.setdefault("responses", {})
    for status, (name, description) in ERRORS.items():
        headers = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
        if status in (429, 503):
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if status == 405:
            headers["Allow"] = {"description": "The methods this path takes", **_HEADER}
        responses[name] = {"description": description, "headers": headers, "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    responses.get("DEFAULT_ERROR", {}).setdefault("headers", {})["X-Request-Id"] = {
        "$ref": "#/components/headers/X-Request-Id"}
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                _finish_operation(path, method, item[method])
    return spec


def _finish_operation(path: str, method: str, op: dict) -> None:
    secured = op.get("security") != []
    roles = op.get("x-roles", [])
    if secured:
        op["security"] = ([{"apiKey": []}] if INSTITUTION in roles else []) + (
            [{"bearer": []}] if set(roles) & set(STAFF_ROLES) else [])
        labels = "、".join(ROLE_LABELS[r] for r in roles)
        op["description"] = (op.get("description", "") + f"\n\n**可调用角色 Roles:** {labels}").strip()
    idempotent, conditional = op.pop("x-idempotent", False), op.pop("x-if-match", False)
    tagged = op.pop("x-etag", False) or conditional
    params = [p for p in op.get("parameters", []) if p.get("in") != "header" or p.get("name") != "If-Match"]
    params.append({"$ref": "#/components/parameters/RequestId"})
    if idempotent:
        params.append({"$ref": "#/components/parameters/IdempotencyKey"})
    if conditional:
        params.append({"$ref": "#/components/parameters/IfMatch"})
    op["parameters"] = params
    errors = {503}
    body = op.get("requestBody", {}).get("content", {})
    if "application/json" in body or "application/toml" in body:
        errors |= {400, 415}
    if "multipart/form-data" in body:
        errors |= {413, 415, 422}
    if secured:
        errors |= {401, 429}
        if set(roles) != set(EVERYONE):
            errors.add(403)
    if "{" in path:
        errors.add(404)
    if method != "get":
        errors.add(409)
    if conditional:
        errors |= {400, 412, 428}
    if idempotent:
        errors |= {409, 422}
    responses = op.setdefault("responses", {})
    for status in sorted(errors):
        responses.setdefault(str(status), {"$ref": f"#/components/responses/{ERRORS[status][0]}"})
    for status, response in responses.items():
        if status.startswith("2") and "$ref" not in response:
            headers = response.setdefault("headers", {})
            names = ["X-Request-Id"] + (["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]
                                        if secured else [])
            if tagged:
                names.append("ETag")
            if idempotent:
                names.append("Idempotent-Replayed")
            for name in names:
                headers.setdefault(name, {"$ref": f"#/components/headers/{name}"})
