"""Simulation items keep amounts and the cap usage each side saw, not traces (rebuilt on demand, found by subject);
the draft's document on the simulation

Revision ID: 0013_simulation_items_lean
Revises: 0012_simulation
Create Date: 2026-12-02 07:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_simulation_items_lean'
down_revision: str | None = '0012_simulation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Items of earlier runs carry no cap usage, so their traces could not be rebuilt: they are dropped (a
    # simulation is a throwaway what-if; run it again). Their simulations are kept, marked as having no items.
    op.execute("UPDATE simulation SET error = 'items dropped by migration 0013: run the simulation again' "
               "WHERE id IN (SELECT DISTINCT simulation_id FROM simulation_item)")
    op.execute("DELETE FROM simulation_item")
    with op.batch_alter_table('simulation_item', schema=None) as batch_op:
        batch_op.drop_column('baseline_trace')
        batch_op.drop_column('draft_trace')
        batch_op.add_column(sa.Column('baseline_version_id', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('usage', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.create_index('ix_simulation_item_subject', ['simulation_id', 'subject_id'], unique=False)
    with op.batch_alter_table('simulation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft_parameters', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('simulation', schema=None) as batch_op:
        batch_op.drop_column('draft_parameters')
    op.execute("DELETE FROM simulation_item")
    with op.batch_alter_table('simulation_item', schema=None) as batch_op:
        batch_op.drop_index('ix_simulation_item_subject')
        batch_op.drop_column('usage')
        batch_op.drop_column('baseline_version_id')
        batch_op.add_column(sa.Column('draft_trace', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('baseline_trace', sa.JSON(), nullable=False, server_default='[]'))
