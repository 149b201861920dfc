"""Run Alembic migrations from code (CLI, tests) against a given database URL."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from claims.settings import ROOT


def alembic_config(database_url: str) -> Config:
    """The Alembic configuration for migrations/ aimed at one database."""
    config = Config(str(ROOT / "migrations/alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database schema up to a revision (every head by default, so parallel branches both apply)."""
    command.upgrade(alembic_config(database_url), revision)


def pending_revisions(database_url: str) -> list[str]:
    """The head revisions the database has not reached yet (empty when its schema is current)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from claims.db import make_engine

    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return sorted(heads - current)
