"""Ledger accounts keep their balance: budget positions read one row an account instead of summing every entry

Revision ID: 0017_ledger_balances
Revises: 0016_audit_chain_head
Create Date: 2026-12-03 16:10:00

Every filing on a budget-capped program reads the program's budget position; summing the entries cost 72 ms
a filing on PostgreSQL with 300,000 entries, and grew with every approval of the year. The balance is kept by
the posting's own transaction (claims.ledger.post) and derived from the entries here, once.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017_ledger_balances'
down_revision: str | None = '0016_audit_chain_head'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('balance_fen', sa.BigInteger(), nullable=False, server_default='0'))
    op.execute("UPDATE ledger_account SET balance_fen = (SELECT COALESCE(SUM(e.amount_fen), 0) FROM ledger_entry e "
               "WHERE e.account_id = ledger_account.id)")


def downgrade() -> None:
    with op.batch_alter_table('ledger_account', schema=None) as batch_op:
        batch_op.drop_column('balance_fen')
