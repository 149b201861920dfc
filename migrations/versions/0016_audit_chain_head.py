"""PostgreSQL: audit_chain_head(key) takes the audit chain's lock and then reads its head, in one round trip

Revision ID: 0016_audit_chain_head
Revises: 0015_loan_principal_index
Create Date: 2026-12-03 10:20:00

Every write appends an audit event, so this runs in every write transaction. It is a VOLATILE PL/pgSQL
function so that the head is read by a query of its own, after the lock is granted: in READ COMMITTED such a
query takes a fresh snapshot, and sees the event a concurrent writer committed while this one waited. A plain
`SELECT lock, (SELECT head)` would read the head from the snapshot taken before the wait, and fork the chain.
The lock key is the one claims.db.lock_rows computes, so checkpoints and re-keying queue on the same lock.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0016_audit_chain_head'
down_revision: str | None = '0015_loan_principal_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE already serialises writers; the head is a plain select
    op.execute("""
        CREATE FUNCTION audit_chain_head(lock_key bigint) RETURNS varchar
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || CAST(lock_key AS text), 0));
            RETURN (SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1);
        END
        $$
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_chain_head(bigint)")
