"""Settlement: statement issue facts and bank responses, payment vouchers on postings, payee accounts, payment
batches and lines, recovery receipts, budget adjustments

Revision ID: 0009_payments
Revises: 0007_reference_data
Create Date: 2026-12-01 23:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_payments'
down_revision: str | None = '0006_security'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
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
    op.create_table('budget_adjustment',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('program_code', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('proposed_by', sa.String(length=100), nullable=False),
    sa.Column('proposed_user_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decision_reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['program_code'], ['program.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('budget_adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_adjustment_program_code'), ['program_code'], unique=False)

    op.create_table('payee_account',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('institution_id', BIG_ID, nullable=False),
    sa.Column('account_name', sa.String(length=100), nullable=False),
    sa.Column('bank_name', sa.String(length=100), nullable=False),
    sa.Column('account_no', sa.String(length=32), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('institution_id')
    )
    with op.batch_alter_table('payee_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payee_account_institution_id'), ['institution_id'], unique=False)

    op.create_table('payment_batch',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('program_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['program_code'], ['program.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_batch_program_code'), ['program_code'], unique=False)

    op.create_table('payment_line',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('batch_id', BIG_ID, nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', BIG_ID, nullable=False),
    sa.Column('institution_id', BIG_ID, nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('account_name', sa.String(length=100), nullable=False),
    sa.Column('bank_name', sa.String(length=100), nullable=False),
    sa.Column('account_no', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('voucher_no', sa.String(length=64), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['payment_batch.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('payment_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_line_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_line_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index('ix_payment_line_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('recovery_receipt',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('recovery_id', BIG_ID, nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('remitted_on', sa.Date(), nullable=False),
    sa.Column('bank_reference', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('voucher_no', sa.String(length=64), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('received_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recovery_id'], ['recovery.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recovery_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_receipt_recovery_id'), ['recovery_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recovery_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_receipt_recovery_id'))

    op.drop_table('recovery_receipt')
    with op.batch_alter_table('payment_line', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_line_subject')
        batch_op.drop_index(batch_op.f('ix_payment_line_institution_id'))
        batch_op.drop_index(batch_op.f('ix_payment_line_batch_id'))

    op.drop_table('payment_line')
    with op.batch_alter_table('payment_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_batch_program_code'))

    op.drop_table('payment_batch')
    with op.batch_alter_table('payee_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payee_account_institution_id'))

    op.drop_table('payee_account')
    with op.batch_alter_table('budget_adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_adjustment_program_code'))

    op.drop_table('budget_adjustment')
    with op.batch_alter_table('ledger_posting', schema=None) as batch_op:
        batch_op.drop_column('voucher_no')
    with op.batch_alter_table('statement', schema=None) as batch_op:
        for column in reversed(STATEMENT_COLUMNS):
            batch_op.drop_column(column.name)
