"""Fixtures shared by the integration and API tests: one app per database, SQLite and PostgreSQL.

Every DB-backed test runs on both databases. PostgreSQL is taken from TEST_POSTGRES_URL (default
127.0.0.1:5432, database `test`); when it cannot be reached the PostgreSQL variants are deselected
locally, but under CI (CI=true) the run fails instead.
"""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import close_all_sessions
from sqlmodel import SQLModel

import claims.models  # noqa: F401
from claims.db import make_engine
from claims.migrate import upgrade
from claims.settings import load_settings
from tests.helpers import callers_of

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_pg_reachable: bool | None = None


def postgres_reachable() -> bool:
    """Whether the test PostgreSQL answers (checked once per process)."""
    global _pg_reachable
    if _pg_reachable is None:
        try:
            engine = make_engine(PG_URL, pool_pre_ping=False)
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _pg_reachable = True
        except Exception:  # noqa: BLE001 - any failure means "not reachable" here
            _pg_reachable = False
    return _pg_reachable


def pytest_sessionstart(session):
    if os.environ.get("CI") and not postgres_reachable() and not hasattr(session.config, "workerinput"):
        raise pytest.UsageError(f"CI requires PostgreSQL at {PG_URL}; it is not reachable.")


def pytest_collection_modifyitems(config, items):
    if postgres_reachable():
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("postgres") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_terminal_summary(terminalreporter):
    passed = [r for r in terminalreporter.stats.get("passed", []) if "postgres" in r.keywords]
    failed = [r for r in terminalreporter.stats.get("failed", []) if "postgres" in r.keywords]
    terminalreporter.write_line(f"PostgreSQL tests: {len(passed)} passed, {len(failed)} failed "
                                f"(against {PG_URL.split('@')[-1]})")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_schema() -> str:
    # Each run and each xdist worker gets its own schema in the shared `test` database, so that two
    # test runs on one machine (a developer's and CI's) cannot wipe each other's tables.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or str(os.getpid())
    return f"claims_test_{run}_{_worker()}"


def _pg_schema_url(schema: str) -> str:
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def _drop_pg_schema(schema: str) -> None:
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path_factory) -> str:
    """A migrated database of each kind, shared by the tests of one worker."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'claims.db'}"
    else:
        schema = _pg_schema()
        url = _pg_schema_url(schema)
        request.addfinalizer(lambda: _drop_pg_schema(schema))
    upgrade(url)
    return url


def _wipe(engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))


@functools.lru_cache(maxsize=1)
def demo_signing_credentials():
    """One demo CA and signing certificate per test process (making RSA keys per test would be slow)."""
    from reports.demo_ca import ensure_demo_credentials

    creds, _ = ensure_demo_credentials(Path(tempfile.mkdtemp(prefix="claims-signing-")))
    return creds


@pytest.fixture(scope="session")
def demo_signing():
    """The demo signing credentials every test app signs statements with."""
    return demo_signing_credentials()


@pytest.fixture
def app(database_url, tmp_path, demo_signing):
    """The application on a clean database of each kind, with reference data and demo access seeded."""
    application = make_test_app(database_url, tmp_path)
    yield application
    # A failed test's traceback keeps its sessions alive, and with them open transactions whose locks would
    # block the next test's wipe: end them all here.
    close_all_sessions()
    application.extensions["claims"]["engine"].dispose()


def make_test_app(database_url: str, tmp_path, **overrides):
    """A test application on a wiped database with reference data, programs and demo access seeded."""
    from claims.app import create_app
    from claims.db import unit_of_work
    from claims.services import seeding
    from workflows.rules import load_programs

    signing = demo_signing_credentials()
    overrides = {"signing_p12": str(signing.p12), "signing_password": signing.password,
                 "signing_ca": str(signing.ca_pem), **overrides}
    settings = load_settings("test").with_overrides(database_url=database_url, data_dir=tmp_path / "var", **overrides)
    application = create_app(settings)
    ext = application.extensions["claims"]
    _wipe(ext["engine"])
    report = seeding.SeedReport()
    with unit_of_work(ext["sessions"]) as session:
        seeding.load_reference_data(session, report)
        seeding.sync_programs(session, load_programs(settings.programs_dir), report)
        seeding.load_demo_access(session, report)
        seeding.load_demo_admissions(session, report)
        seeding.record_seeding(session, report)
    application.config["DEMO_KEYS"] = report.demo_keys
    return application


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def db(app):
    """A session on the test database for direct checks."""
    session = app.extensions["claims"]["sessions"]()
    yield session
    session.close()


@pytest.fixture
def callers(app, db):
    """Credentials for each seeded institution (by code) and each demo staff user (by username)."""
    return callers_of(app, db)
