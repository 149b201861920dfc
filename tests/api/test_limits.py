"""Limits and headers: requests per minute per API key or staff user, security headers on every answer,
no internals in any error, secrets only from the environment."""
from __future__ import annotations

import threading
import tomllib

import pytest
from limits.storage import storage_from_string

from claims.api.rate_counters import InProcessCounters
from claims.settings import ROOT, SettingsError, load_settings
from tests.helpers import problem

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
                    "Cache-Control": "no-store"}


@pytest.fixture
def limited(app):
    """The test app with the production-like limit of 5 requests a minute (the test env sets it very high)."""
    ext = app.extensions["claims"]
    ext["settings"] = ext["settings"].with_overrides(rate_limit_per_minute=5)
    ext["limiter"].reset()
    yield app
    ext["limiter"].reset()


def test_each_api_key_gets_its_own_budget_of_requests_per_minute(limited, client, callers):
    bank_a, bank_b = callers["BANK_A"].headers, callers["BANK_B"].headers
    answers = [client.get("/claims", headers=bank_a) for _ in range(5)]
    assert [r.status_code for r in answers] == [200] * 5
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"
    refused = client.get("/claims", headers=bank_a)
    body = problem(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0 and "5 per 1 minute" in body["detail"]
    # Another key, another bucket; a write by the throttled key is refused as well.
    assert client.get("/claims", headers=bank_b).status_code == 200
    problem(client.post("/loans", json={}, headers=bank_a), 429, "rate_limited")


def test_staff_users_are_limited_per_user_and_health_is_never_limited(limited, client, callers):
    reviewer = callers["reviewer1"].headers
    assert all(client.get("/programs", headers=reviewer).status_code == 200 for _ in range(5))
    problem(client.get("/programs", headers=reviewer), 429, "rate_limited")
    assert client.get("/programs", headers=callers["reviewer2"].headers).status_code == 200
    assert all(client.get("/health").status_code == 200 for _ in range(10))


def test_callers_without_valid_credentials_share_their_address_budget(limited, client):
    answers = [client.get("/claims", headers={"X-API-Key": f"ck_nope{i}_x"}).status_code for i in range(6)]
    assert answers == [401] * 5 + [429]


def test_every_answer_carries_the_security_headers(app, client, callers):
    answers = [client.get("/claims", headers=callers["BANK_A"].headers), client.get("/claims"),
               client.get("/no/such/route"), client.delete("/claims", headers=callers["BANK_A"].headers),
               client.post("/claims", data="{", content_type="application/json", headers=callers["BANK_A"].headers),
               client.get("/health"), client.get("/openapi.json")]
    for response in answers:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.status_code, name)
        assert "Server" not in response.headers or "Python" not in response.headers["Server"]
    assert answers[0].headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_an_unexpected_failure_shows_no_stack_trace_or_sql(app, client, callers, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from claims.services import claims as claim_service

    def broken(*args, **kwargs):
        raise IntegrityError('INSERT INTO claim (secret_column) VALUES (%(x)s)', {"x": "ck_secret"},
                             Exception("duplicate key value violates unique constraint \"claim_pkey\""))

    monkeypatch.setattr(claim_service, "list_claims", broken)
    response = client.get("/claims", headers=callers["reviewer1"].headers)
    body = problem(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    for leak in ("INSERT", "secret_column", "ck_secret", "claim_pkey", "Traceback", "IntegrityError", "sqlalchemy"):
        assert leak not in text
    assert body["detail"] == "The server failed to handle the request; it has been logged."


def test_the_production_settings_hold_no_secret_and_need_it_from_the_environment(monkeypatch):
    with open(ROOT / "config/settings.toml", "rb") as fh:
        production = tomllib.load(fh)["production"]
    assert "secret_key" not in production and "database_url" not in production
    monkeypatch.delenv("CLAIMS_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="CLAIMS_SECRET_KEY"):
        load_settings("production")
    monkeypatch.setenv("CLAIMS_SECRET_KEY", "from-the-environment-" + "k9Qx2vLp7RtZ4mWb8NcY3hJd")
    monkeypatch.setenv("CLAIMS_AUDIT_KEY", "audit-from-the-environment-" + "Tg5Hs1Kq6Vw0Xe3Ur8Pz")
    monkeypatch.setenv("DATABASE_URL", "postgresql://claims@db.internal/claims")
    settings = load_settings("production")
    assert settings.secret_key == "from-the-environment-k9Qx2vLp7RtZ4mWb8NcY3hJd"
    assert settings.database_url == "postgresql://claims@db.internal/claims"


def test_no_secret_literal_sits_in_the_product_code():
    offenders = []
    for path in list((ROOT / "claims").rglob("*.py")) + list((ROOT / "reports").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for marker in ("SECRET_KEY = \"", "secret_key=\"", "password=\"", "postgresql://claims:"):
            if marker in source:
                offenders.append(f"{path.relative_to(ROOT)}: {marker}")
    assert not offenders, offenders


def test_with_redis_unreachable_each_process_still_limits_in_memory_rather_than_failing(database_url, tmp_path):
    from tests.conftest import make_test_app
    from tests.helpers import callers_of
    from tests.servers import free_port

    app = make_test_app(database_url, tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0",
                        rate_limit_per_minute=3)
    try:
        assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
        client = app.test_client()
        with app.extensions["claims"]["sessions"]() as session:
            bank = callers_of(app, session)["BANK_A"].headers
        assert [client.get("/claims", headers=bank).status_code for _ in range(4)] == [200, 200, 200, 429]
    finally:
        app.extensions["claims"]["engine"].dispose()


def test_the_counters_live_in_the_process_and_start_no_thread_per_request(app, client, callers, monkeypatch):
    # limits' own memory:// storage started a timer thread on nearly every hit under load.
    assert isinstance(app.extensions["claims"]["limiter"].storage, InProcessCounters)
    assert isinstance(storage_from_string("claims-memory://"), InProcessCounters)
    started, start = [], threading.Thread.start

    def counted_start(thread):
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted_start)
    assert [client.get("/claims", headers=callers["BANK_A"].headers).status_code for _ in range(20)] == [200] * 20
    assert started == []
