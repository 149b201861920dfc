"""Review-queue indexes: per-status ones end in (submitted_at, id); partial ones over the open states

Revision ID: 0003_claim_queue_indexes
Revises: 0002_applications
Create Date: 2026-11-23 11:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_claim_queue_indexes'
down_revision: str | None = '0002_applications'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: the model derives it from the workflow's states, a migration must not move with them.
OPEN_QUEUE = sa.text("status IN ('approved', 'deferred', 'draft', 'first_review', 'returned', 'second_review', "
                     "'submitted')")


def upgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_queue')
        batch_op.drop_index('ix_claim_institution_status')
        batch_op.create_index('ix_claim_queue', ['program_code', 'status', 'submitted_at', 'id'], unique=False)
        batch_op.create_index('ix_claim_institution_status', ['institution_id', 'status', 'submitted_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_claim_open_queue', ['program_code', 'submitted_at', 'id'], unique=False,
                              postgresql_where=OPEN_QUEUE, sqlite_where=OPEN_QUEUE)
        batch_op.create_index('ix_claim_open_by_age', ['submitted_at', 'id'], unique=False,
                              postgresql_where=OPEN_QUEUE, sqlite_where=OPEN_QUEUE)


def downgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_open_by_age')
        batch_op.drop_index('ix_claim_open_queue')
        batch_op.drop_index('ix_claim_institution_status')
        batch_op.drop_index('ix_claim_queue')
        batch_op.create_index('ix_claim_institution_status', ['institution_id', 'status', 'created_at'], unique=False)
        batch_op.create_index('ix_claim_queue', ['program_code', 'status', 'submitted_at'], unique=False)
