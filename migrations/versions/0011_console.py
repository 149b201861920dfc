"""Console: an index for open queues in due-date order, and one for the breaker measures' sums

Revision ID: 0011_console
Revises: 0008_events
Create Date: 2026-12-01 23:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_console'
down_revision: str | None = '0010_api_contract'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMITTED = sa.text("status IN ('approved', 'paid')")
# Frozen here as in 0005: the model derives it from the workflow's states, a migration must not move with them.
OPEN_QUEUE = sa.text("status IN ('approved', 'deferred', 'draft', 'first_review', 'returned', 'second_review', "
                     "'submitted', 'third_review')")


def upgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index('ix_claim_open_by_due', ['stage_due_on', 'id', 'status'], unique=False,
                              postgresql_where=OPEN_QUEUE, sqlite_where=OPEN_QUEUE)
        batch_op.create_index('ix_claim_committed', ['program_code', 'institution_id', 'budget_year', 'approved_fen'],
                              unique=False, postgresql_where=COMMITTED, sqlite_where=COMMITTED)


def downgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_committed')
        batch_op.drop_index('ix_claim_open_by_due')
