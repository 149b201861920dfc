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
