"""Loans carry a version (their ETag, checked by If-Match) and updated_at (the `updated_since` filter)

Revision ID: 0010_api_contract
Revises: 0005_money_controls
Create Date: 2026-12-01 23:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_api_contract'
down_revision: str | None = '0009_payments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        # Null until the loan changes after registration; the filter falls back to created_at.
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('version')
