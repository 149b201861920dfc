"""The migrations build exactly the schema the models declare, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import claims.models  # noqa: F401  (registers every table on the metadata)
from claims.db import make_engine


def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_review_queue_indexes_are_partial_over_the_open_states(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                rows = conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'claim' "
                                            "AND schemaname = current_schema()").all()
            else:
                rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                            "AND tbl_name = 'claim'").all()
    finally:
        engine.dispose()
    definitions = {name: sql for name, sql in rows}
    for name in ("ix_claim_open_queue", "ix_claim_open_by_age"):
        assert "first_review" in definitions[name] and "'paid'" not in definitions[name]
    assert "submitted_at" in definitions["ix_claim_queue"]
