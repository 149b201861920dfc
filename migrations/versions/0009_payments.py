"""Settlement: statement issue facts and bank responses, payment vouchers on postings

Revision ID: 0009_payments
Revises: 0005_money_controls
Create Date: 2026-12-01 23:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_payments'
down_revision: str | None = '0005_money_controls'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATEMENT_COLUMNS = (
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('interim', sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column('supersedes', sa.String(length=1000), nullable=False, server_default=''),
    sa.Column('bank_response', sa.String(length=16), nullable=False, server_default=''),
    sa.Column('bank_reason', sa.String(length=2000), nullable=False, server_default=''),
    sa.Column('bank_responded_by', sa.String(length=100), nullable=False, server_default=''),
    sa.Column('bank_responded_at', sa.DateTime(), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table('statement', schema=None) as batch_op:
        for column in STATEMENT_COLUMNS:
            batch_op.add_column(column._copy())
    with op.batch_alter_table('ledger_posting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voucher_no', sa.String(length=64), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('ledger_posting', schema=None) as batch_op:
        batch_op.drop_column('voucher_no')
    with op.batch_alter_table('statement', schema=None) as batch_op:
        for column in reversed(STATEMENT_COLUMNS):
            batch_op.drop_column(column.name)
