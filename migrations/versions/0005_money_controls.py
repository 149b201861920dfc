"""Money controls: the open-queue indexes cover a third review stage

Revision ID: 0005_money_controls
Revises: 0004_claim_interest_days
Create Date: 2026-12-01 23:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_money_controls'
down_revision: str | None = '0004_claim_interest_days'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: the model derives it from the workflow's states, a migration must not move with them.
BEFORE = sa.text("status IN ('approved', 'deferred', 'draft', 'first_review', 'returned', 'second_review', "
                 "'submitted')")
AFTER = sa.text("status IN ('approved', 'deferred', 'draft', 'first_review', 'returned', 'second_review', "
                "'submitted', 'third_review')")


def _partial_indexes(where) -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_open_by_age')
        batch_op.drop_index('ix_claim_open_queue')
        batch_op.create_index('ix_claim_open_queue', ['program_code', 'submitted_at', 'id'], unique=False,
                              postgresql_where=where, sqlite_where=where)
        batch_op.create_index('ix_claim_open_by_age', ['submitted_at', 'id'], unique=False,
                              postgresql_where=where, sqlite_where=where)


def upgrade() -> None:
    _partial_indexes(AFTER)


def downgrade() -> None:
    _partial_indexes(BEFORE)
