"""Small helpers the API and integration tests share."""
from __future__ import annotations


class Caller:
    """Headers for one caller, so tests read `client.get(url, headers=bank_a.headers)`."""

    def __init__(self, headers: dict[str, str], **info):
        self.headers = headers
        self.__dict__.update(info)

    def with_(self, **extra) -> dict[str, str]:
        """The caller's headers plus extra ones (If-Match, Idempotency-Key, ...)."""
        return {**self.headers, **extra}


def problem(response, status: int, code: str | None = None) -> dict:
    """Assert a problem+json response with the status (and code) and return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def field_codes(body: dict) -> dict[str, list[str]]:
    """A problem's errors[] as {field: [code, ...]}."""
    codes: dict[str, list[str]] = {}
    for error in body.get("errors", []):
        assert set(error) == {"field", "code", "message"}, error
        codes.setdefault(error["field"], []).append(error["code"])
    return codes
