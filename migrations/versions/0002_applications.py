"""Subsidy and reward applications; the LPR history table

Revision ID: 0002_applications
Revises: 0001
Create Date: 2026-11-23 10:01:57.844725
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002_applications'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lpr_rate',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('one_year', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('five_year', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lpr_rate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lpr_rate_effective_on'), ['effective_on'], unique=True)

    op.create_table('application',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('program_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('rule_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('enterprise_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('fee_kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('basis_fen', sa.BigInteger(), nullable=False),
    sa.Column('outstanding_principal_fen', sa.BigInteger(), nullable=True),
    sa.Column('computed_fen', sa.BigInteger(), nullable=False),
    sa.Column('approved_fen', sa.BigInteger(), nullable=True),
    sa.Column('paid_fen', sa.BigInteger(), nullable=False),
    sa.Column('trace', sa.JSON(), nullable=False),
    sa.Column('budget_year', sa.Integer(), nullable=True),
    sa.Column('first_reviewer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('stage_due_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
    sa.ForeignKeyConstraint(['first_reviewer_id'], ['staff_user.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], ),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], ),
    sa.ForeignKeyConstraint(['program_code'], ['program.code'], ),
    sa.ForeignKeyConstraint(['rule_version_id'], ['rule_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_application_enterprise_status', ['enterprise_id', 'status', 'budget_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index('ix_application_institution_status', ['institution_id', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ix_application_queue', ['program_code', 'status', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_rule_version_id'), ['rule_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_status'))
        batch_op.drop_index(batch_op.f('ix_application_rule_version_id'))
        batch_op.drop_index('ix_application_queue')
        batch_op.drop_index(batch_op.f('ix_application_loan_id'))
        batch_op.drop_index('ix_application_institution_status')
        batch_op.drop_index(batch_op.f('ix_application_institution_id'))
        batch_op.drop_index('ix_application_enterprise_status')
        batch_op.drop_index(batch_op.f('ix_application_enterprise_id'))

    op.drop_table('application')
    with op.batch_alter_table('lpr_rate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lpr_rate_effective_on'))

    op.drop_table('lpr_rate')
