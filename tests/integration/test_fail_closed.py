"""Configuration fails closed: an unset environment is production, which wants real secrets and no demo data."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask.cli import ScriptInfo
from itsdangerous import URLSafeTimedSerializer

from claims.cli import main
from claims.settings import SettingsError, load_settings
from tests.helpers import problem
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = str(Path(sys.executable).with_name("claims"))
GOOD_SECRET = "Vq3n8ZkR2tYw5LmC7xPb0HsJ4dFg6NaE1uQi9oWr"  # 40 characters, 36 distinct
GOOD_AUDIT_KEY = "aT7kM2pX9wQ4zR6vN1bY8cL3hF5jD0gS-eU_iO"


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CLAIMS_ENV", "CLAIMS_SECRET_KEY", "CLAIMS_AUDIT_KEY", "DATABASE_URL")}
    return {**env, **extra}


def test_the_service_started_with_claims_env_unset_and_no_secret_refuses_and_says_how_to_fix_it(tmp_path):
    started = subprocess.run([CLAIMS, "serve", "--port", "0"], env=_env(), cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
    assert started.returncode == 2
    assert "refusing to start as production (CLAIMS_ENV is unset): no CLAIMS_SECRET_KEY" in started.stderr
    assert "secrets.token_urlsafe(32)" in started.stderr and "Traceback" not in started.stderr


@pytest.mark.parametrize("secret, reason", [
    ("development-only-secret-change-me", "development/test value"),
    ("test-only-secret-not-for-production-use!", "development/test value"),
    ("too-short-secret", "at least 32 random bytes"),
    ("a" * 64, "at least 32 random bytes"),  # long but not random
])
def test_production_refuses_the_repository_secrets_and_weak_ones(monkeypatch, secret, reason):
    monkeypatch.delenv("CLAIMS_ENV", raising=False)
    monkeypatch.setenv("CLAIMS_SECRET_KEY", secret)
    monkeypatch.setenv("CLAIMS_AUDIT_KEY", GOOD_AUDIT_KEY)
    with pytest.raises(SettingsError, match=reason):
        load_settings()


def test_production_wants_its_own_audit_key_too(monkeypatch):
    monkeypatch.setenv("CLAIMS_SECRET_KEY", GOOD_SECRET)
    monkeypatch.delenv("CLAIMS_AUDIT_KEY", raising=False)
    with pytest.raises(SettingsError, match="no CLAIMS_AUDIT_KEY"):
        load_settings("production")
    monkeypatch.setenv("CLAIMS_AUDIT_KEY", GOOD_SECRET)
    with pytest.raises(SettingsError, match="must differ"):
        load_settings("production")
    monkeypatch.setenv("CLAIMS_AUDIT_KEY", GOOD_AUDIT_KEY)
    assert load_settings("production").env == "production"


@pytest.fixture
def production_app(monkeypatch, database_url, tmp_path, app):
    """The seeded test database served with production settings (real secrets from the environment)."""
    from claims.app import create_app

    monkeypatch.setenv("CLAIMS_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("CLAIMS_AUDIT_KEY", GOOD_AUDIT_KEY)
    settings = load_settings("production").with_overrides(database_url=database_url, data_dir=tmp_path / "prod")
    production = create_app(settings)
    yield production
    production.extensions["claims"]["engine"].dispose()
    from claims.audit import configure_key

    configure_key(app.extensions["claims"]["settings"].audit_key)


def test_a_token_signed_with_the_development_secret_is_refused_in_production(production_app, db):
    from sqlmodel import select

    from claims.models import User

    admin = db.exec(select(User).where(User.username == "admin")).one()
    # The forgery of the report: the old token format, re-signed with the secret that sits in the repository.
    forged = URLSafeTimedSerializer("development-only-secret-change-me", salt="claims-staff-token").dumps(
        {"uid": admin.id, "pw": admin.password_hash[-16:]})
    client = production_app.test_client()
    problem(client.get("/institutions", headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token")
    problem(client.get("/institutions", headers={"Authorization": "Bearer cs_" + "A" * 43}), 401, "invalid_token")


def test_seed_demo_is_refused_in_production(production_app):
    runner = production_app.test_cli_runner()
    result = runner.invoke(main, ["seed", "--demo"], obj=ScriptInfo(create_app=lambda: production_app))
    assert result.exit_code == 1
    assert "refused in production" in result.output


def test_the_server_names_no_software_versions(tmp_path):
    env = _env(CLAIMS_ENV="test", DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", CLAIMS_DATA_DIR=str(tmp_path))
    subprocess.run([CLAIMS, "init-db"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([CLAIMS, "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    headers = response.headers
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not answer")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert headers["Server"] == "claims"
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS only over HTTPS
    assert headers["X-Content-Type-Options"] == "nosniff"
