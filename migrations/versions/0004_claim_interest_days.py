"""Claims keep the days their unpaid interest covers, so the interest-day cap holds on every recompute

Revision ID: 0004_claim_interest_days
Revises: 0003_claim_queue_indexes
Create Date: 2026-11-23 12:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_claim_interest_days'
down_revision: str | None = '0003_claim_queue_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        # Claims filed before this revision keep 0: the days their amounts were computed with.
        batch_op.add_column(sa.Column('interest_days', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_column('interest_days')
