"""What-if simulations: a draft rule version replayed over history, and the items each one repriced

Revision ID: 0012_simulation
Revises: 0011_console
Create Date: 2026-12-02 03:46:28
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012_simulation'
down_revision: str | None = '0011_console'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('simulation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('program_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('draft_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('draft_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('engine_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('institutions', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['draft_version_id'], ['rule_version.id'], ),
    sa.ForeignKeyConstraint(['program_code'], ['program.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('simulation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_simulation_draft_version_id'), ['draft_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_simulation_program_code'), ['program_code'], unique=False)

    op.create_table('simulation_item',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('simulation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('institution_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('history_on', sa.Date(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('baseline_fen', sa.BigInteger(), nullable=False),
    sa.Column('draft_fen', sa.BigInteger(), nullable=False),
    sa.Column('delta_fen', sa.BigInteger(), nullable=False),
    sa.Column('baseline_eligible', sa.Boolean(), nullable=False),
    sa.Column('draft_eligible', sa.Boolean(), nullable=False),
    sa.Column('baseline_binding', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('draft_binding', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('baseline_trace', sa.JSON(), nullable=False),
    sa.Column('draft_trace', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['simulation_id'], ['simulation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('simulation_item', schema=None) as batch_op:
        batch_op.create_index('ix_simulation_item_seq', ['simulation_id', 'seq'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('simulation_item', schema=None) as batch_op:
        batch_op.drop_index('ix_simulation_item_seq')

    op.drop_table('simulation_item')
    with op.batch_alter_table('simulation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_simulation_program_code'))
        batch_op.drop_index(batch_op.f('ix_simulation_draft_version_id'))

    op.drop_table('simulation')
