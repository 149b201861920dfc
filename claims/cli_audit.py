"""The `claims audit-*` commands: verify the keyed chain, sign a checkpoint, reseal a legacy chain, rotate the key."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup


@click.group(cls=AppGroup)
def audit_commands() -> None:
    """A holder for the audit commands; `claims.cli` adds each of them to the `claims` group."""


@audit_commands.command("audit-verify")
def audit_verify() -> None:
    """Recompute the audit HMAC chain, check the checkpoints, the ledger's balances and its payouts; exit 1 on a break."""
    from claims.books import verify_books

    session = current_app.extensions["claims"]["sessions"]()
    with session:
        report = verify_books(session)
    chain = report.chain
    if not chain.ok:
        click.echo(f"audit chain BROKEN at seq {chain.first_broken_seq}: {chain.reason} "
                   f"({chain.checked} events verified before it)", err=True)
    for code, kept, derived in report.unbalanced:
        click.echo(f"ledger account {code} keeps a balance of {kept} fen; its entries sum to {derived} fen", err=True)
    if report.trial_balance_fen:
        click.echo(f"the ledger's entries sum to {report.trial_balance_fen} fen, not 0", err=True)
    for subject, subject_id, kind, posted, audited in report.unreconciled:
        click.echo(f"{subject} {subject_id}: {kind} postings of {posted} fen, but its audited decisions say "
                   f"{audited} fen", err=True)
    if not report.ok:
        sys.exit(1)
    click.echo(f"audit chain intact: {chain.checked} events, {chain.checkpoints} signed checkpoints hold; "
               f"every ledger balance is the sum of its entries; every payout posting is its audited decision's")


@audit_commands.command("audit-checkpoint")
def audit_checkpoint() -> None:
    """Sign the audit chain's current head now (the audit_checkpoint job does it daily)."""
    from claims.audit import write_checkpoint
    from claims.db import unit_of_work

    with unit_of_work(current_app.extensions["claims"]["sessions"]) as session:
        checkpoint = write_checkpoint(session)
        click.echo(f"checkpoint {checkpoint.id}: seq {checkpoint.seq}, {checkpoint.count} events, "
                   f"head {checkpoint.head_hash[:16]}")


@audit_commands.command("audit-reseal")
def audit_reseal() -> None:
    """Once, after upgrading a pre-0006 database: check its plain SHA-256 chain, re-link it with the audit key."""
    from claims.audit import reseal_legacy_chain
    from claims.db import unit_of_work

    try:
        with unit_of_work(current_app.extensions["claims"]["sessions"]) as session:
            checkpoint = reseal_legacy_chain(session)
            click.echo(f"resealed {checkpoint.count} events with the audit key; checkpoint {checkpoint.id} signed")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@audit_commands.command("audit-rekey")
@click.option("--old-key", envvar="CLAIMS_OLD_AUDIT_KEY", prompt=True, hide_input=True,
              help="The audit key the chain was written with (CLAIMS_AUDIT_KEY now holds the new one)")
def audit_rekey(old_key: str) -> None:
    """Rotate the audit key: verify under the old key, re-link and re-sign everything under the new one."""
    from claims.audit import rekey_chain
    from claims.db import unit_of_work

    try:
        with unit_of_work(current_app.extensions["claims"]["sessions"]) as session:
            checkpoint = rekey_chain(session, old_key=old_key)
            click.echo(f"re-keyed {checkpoint.count - 1} events; checkpoint {checkpoint.id} signed with the new key")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
