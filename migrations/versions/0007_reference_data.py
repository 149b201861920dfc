"""Rule versions under maker-checker; open enterprise lists, endable and revocable memberships, dated attributes

Revision ID: 0007_reference_data
Revises: 0005_money_controls
Create Date: 2026-12-01 23:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007_reference_data'
down_revision: str | None = '0005_money_controls'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('rule_version', schema=None) as batch_op:
        # Every version published before maker-checker is live, as it was.
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='live'))
    op.create_table('rule_change',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('rule_version_id', _ID, nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('proposed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['rule_version_id'], ['rule_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rule_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_change_rule_version_id'), ['rule_version_id'], unique=False)

    with op.batch_alter_table('enterprise_category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('valid_for_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revocable', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('declared_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False,
                                      server_default='seed'))
    with op.batch_alter_table('list_membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('revoked_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revoke_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False,
                                      server_default=''))

    op.create_table('enterprise_attribute',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('enterprise_id', _ID, nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enterprise_attribute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_attribute_enterprise_id'), ['enterprise_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('enterprise_attribute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_attribute_enterprise_id'))
    op.drop_table('enterprise_attribute')
    with op.batch_alter_table('list_membership', schema=None) as batch_op:
        batch_op.drop_column('revoke_reason')
        batch_op.drop_column('revoked_on')
        batch_op.drop_column('end_reason')
    with op.batch_alter_table('enterprise_category', schema=None) as batch_op:
        batch_op.drop_column('declared_by')
        batch_op.drop_column('source')
        batch_op.drop_column('revocable')
        batch_op.drop_column('valid_for_months')
        batch_op.drop_column('issuer')
    with op.batch_alter_table('rule_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_change_rule_version_id'))
    op.drop_table('rule_change')
    with op.batch_alter_table('rule_version', schema=None) as batch_op:
        batch_op.drop_column('status')
