"""A running simulation's heartbeat, so the scheduler can resume one whose runner stopped

Revision ID: 0014_simulation_heartbeat
Revises: 0013_simulation_items_lean
Create Date: 2026-12-02 08:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014_simulation_heartbeat'
down_revision: str | None = '0013_simulation_items_lean'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('simulation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('simulation', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
