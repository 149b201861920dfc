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


def blank_pdf() -> bytes:
    """A one-page PDF that parses (uploads are checked by parsing, not by their first bytes)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = blank_pdf()


def attach_required(client, headers: dict[str, str], subject: dict, owners: str = "claims") -> dict:
    """Upload a PDF for every document the claim's (or application's) checklist misses; returns it re-read."""
    import io

    for item in subject["documents"]["missing"]:
        for n in range(item["missing"]):
            response = client.post(f"/{owners}/{subject['id']}/documents", headers=headers,
                                   data={"kind": item["kinds"][0], "file": (io.BytesIO(PDF), f"{item['kinds'][0]}-{n}.pdf")},
                                   content_type="multipart/form-data")
            assert response.status_code == 201, response.get_json()
    fresh = client.get(f"/{owners}/{subject['id']}", headers=headers).get_json()
    assert fresh["documents"]["complete"], fresh["documents"]
    return fresh


def field_codes(body: dict) -> dict[str, list[str]]:
    """A problem's errors[] as {field: [code, ...]}."""
    codes: dict[str, list[str]] = {}
    for error in body.get("errors", []):
        assert set(error) == {"field", "code", "message"}, error
        codes.setdefault(error["field"], []).append(error["code"])
    return codes


def field_messages(body: dict) -> dict[str, str]:
    """A problem's errors[] as {field: every message for it, joined} (messages may add a Chinese meaning)."""
    messages: dict[str, list[str]] = {}
    for error in body.get("errors", []):
        messages.setdefault(error["field"], []).append(error["message"])
    return {field: " | ".join(texts) for field, texts in messages.items()}


def local_folder(app, kind: str):
    """Where the tests' local store keeps one kind of object ("documents", "statements"), to tamper with or remove."""
    return app.extensions["claims"]["settings"].data_dir / kind


def callers_of(app, session) -> dict[str, Caller]:
    """Credentials for each seeded institution (by code) and each demo staff user (by username)."""
    from sqlmodel import select

    from claims.auth import issue_token
    from claims.models import Institution, User

    result: dict[str, Caller] = {}
    for code, key in app.config["DEMO_KEYS"].items():
        institution = session.exec(select(Institution).where(Institution.code == code)).one()
        result[code] = Caller({"X-API-Key": key}, institution_id=institution.id, code=code)
    for user in session.exec(select(User)):
        result[user.username] = Caller({"Authorization": f"Bearer {issue_token(session, user)}"}, user_id=user.id)
    session.commit()
    return result
