"""A covering index for the proportional caps' bases, summed on every filing and recompute

Revision ID: 0015_loan_principal_index
Revises: 0014_simulation_heartbeat
Create Date: 2026-12-03 09:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0015_loan_principal_index'
down_revision: str | None = '0014_simulation_heartbeat'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.create_index('ix_loan_institution_principal',
                              ['institution_id', 'program_code', 'disbursed_on', 'maturity_on', 'principal_fen'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_institution_principal')
