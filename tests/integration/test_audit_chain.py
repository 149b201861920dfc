"""`claims audit-verify` catches an edited event, an inserted event and the newest events deleted."""
from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa
from flask.cli import ScriptInfo

from claims.audit import GENESIS, chain_head, verify_chain
from claims.cli import main
from reports.jobs import JobDeps, run_job


def verify(app):
    """Run `claims audit-verify` as an operator would; (exit code, output)."""
    result = app.test_cli_runner().invoke(main, ["audit-verify"], obj=ScriptInfo(create_app=lambda: app))
    return result.exit_code, result.output


def grow_chain(client, callers, events: int = 8) -> None:
    """Real audited activity: failed and successful logins, each an event."""
    for n in range(events // 2):
        client.post("/auth/token", json={"username": "reviewer2", "password": f"wrong-{n}"})
        client.post("/auth/token", json={"username": "reviewer1", "password": "reviewer1-demo-pass"})


@pytest.fixture
def chain(app, client, callers, db):
    """A chain of real events with a signed checkpoint of its head taken by the daily job."""
    grow_chain(client, callers)
    run = run_job(JobDeps.from_app(app), "audit_checkpoint")
    assert run.status == "done", run.error
    head = chain_head(db)
    assert {k: run.counts[k] for k in ("checkpoint_id", "seq", "events")} == {"checkpoint_id": 1, "seq": head.seq,
                                                                              "events": head.count}
    code, output = verify(app)
    assert code == 0 and f"audit chain intact: {head.count} events, 1 signed checkpoints hold" in output
    return head


def _seqs(db) -> list[int]:
    return list(db.execute(sa.text("SELECT seq FROM audit_event ORDER BY seq")).scalars())


def test_an_edited_event_is_caught_even_with_its_hash_recomputed_without_the_key(app, db, chain):
    victim = _seqs(db)[len(_seqs(db)) // 2]
    row = db.execute(sa.text("SELECT prev_hash, data FROM audit_event WHERE seq = :s"), {"s": victim}).one()
    forged = json.dumps({"username": "someone-else"})
    # What an attacker with database access did before: recompute the plain SHA-256 link. No key, no match.
    db.execute(sa.text("UPDATE audit_event SET data = :d, hash = :h WHERE seq = :s"),
               {"d": forged, "h": hashlib.sha256((row.prev_hash + forged).encode()).hexdigest(), "s": victim})
    db.commit()
    code, output = verify(app)
    assert code == 1 and f"BROKEN at seq {victim}: content does not match its hash" in output
    # The nightly checkpoint job verifies before it signs: it fails, naming the break, and signs nothing.
    run = run_job(JobDeps.from_app(app), "audit_checkpoint")
    assert (run.status, run.counts["broken_seq"]) == ("failed", victim)
    assert run.error == (f"审计链在第 {victim} 条断裂（content does not match its hash），此前 {victim - 1} 条完好；"
                         "未签署检查点")
    assert db.execute(sa.text("SELECT count(*) FROM audit_checkpoint")).scalar_one() == 1


def test_an_inserted_event_is_caught(app, db, chain):
    seqs = _seqs(db)
    after = seqs[3]
    prev = db.execute(sa.text("SELECT hash FROM audit_event WHERE seq = :s"), {"s": after}).scalar_one()
    db.execute(sa.text("UPDATE audit_event SET seq = seq + 100000 WHERE seq > :s"), {"s": after})
    db.execute(sa.text("INSERT INTO audit_event (seq, at, actor, entity, entity_id, action, data, prev_hash, hash) "
                       "VALUES (:seq, '2026-11-30 10:00:00', 'user:1', 'claim', '1', 'approved', '{}', :prev, :hash)"),
               {"seq": after + 1, "prev": prev, "hash": hashlib.sha256(b"forged").hexdigest()})
    db.commit()
    code, output = verify(app)
    assert code == 1 and f"BROKEN at seq {after + 1}: content does not match its hash" in output


def test_the_newest_five_events_deleted_are_caught_by_the_signed_checkpoint(app, client, callers, db, chain):
    newest = _seqs(db)[-5:]
    db.execute(sa.text("DELETE FROM audit_event WHERE seq >= :s"), {"s": newest[0]})
    db.commit()
    # The links that remain are intact: only the checkpoint knows the chain was longer.
    assert verify_chain(db).first_broken_seq == chain.seq
    code, output = verify(app)
    assert code == 1 and f"BROKEN at seq {chain.seq}: event {chain.seq}, the head signed by the checkpoint" in output
    assert "is missing (events were deleted)" in output
    # New activity chained onto the shortened tail does not hide the deletion either.
    grow_chain(client, callers, events=4)
    db.commit()
    assert not verify_chain(db).ok


def test_a_forged_checkpoint_is_caught(app, db, chain):
    db.execute(sa.text("UPDATE audit_checkpoint SET seq = seq - 5, count = count - 5"))
    db.commit()
    code, output = verify(app)
    assert code == 1 and "checkpoint 1 is not signed by the audit key" in output


def test_the_chain_is_keyed_a_different_key_breaks_every_link(app, db, chain):
    db.info["audit_key"] = "another-key-entirely-0123456789abcdef"
    report = verify_chain(db)
    assert not report.ok and report.reason == "checkpoint 1 is not signed by the audit key"
    db.execute(sa.text("DELETE FROM audit_checkpoint"))
    report = verify_chain(db)
    assert not report.ok and report.first_broken_seq == 1 and report.reason == "content does not match its hash"
    assert chain_head(db).label == f"#{chain.seq} {chain.hash[:16]}" and chain.hash != GENESIS


def test_a_legacy_sha256_chain_is_resealed_once_with_the_key(app, db):
    from claims.audit import _legacy_hash
    from claims.models import AuditEvent

    # Rewrite the seeded chain as revision 0005 stored it: plain SHA-256 links.
    prev = GENESIS
    for event in db.exec(sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars():
        event.prev_hash, event.hash = prev, _legacy_hash(prev, event)
        prev = event.hash
    db.commit()
    assert verify(app)[0] == 1
    result = app.test_cli_runner().invoke(main, ["audit-reseal"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0 and "resealed" in result.output
    code, output = verify(app)
    assert code == 0 and "1 signed checkpoints hold" in output
    again = app.test_cli_runner().invoke(main, ["audit-reseal"], obj=ScriptInfo(create_app=lambda: app))
    assert again.exit_code == 1 and "already has signed checkpoints" in again.output


def test_the_audit_key_is_rotated_by_re_keying_the_verified_chain(app, db, chain):
    sessions = app.extensions["claims"]["sessions"]
    old = app.extensions["claims"]["settings"].audit_key
    new = "rotated-audit-key-Zq8Lm3Vx7Tb2Nw5Rk9Hc4Jd"
    sessions.configure(info={"audit_key": new})
    try:
        assert verify(app)[0] == 1  # the old chain does not verify under the new key
        wrong = app.test_cli_runner().invoke(main, ["audit-rekey", "--old-key", "not-the-old-key"],
                                             obj=ScriptInfo(create_app=lambda: app))
        assert wrong.exit_code == 1 and "does not verify under the old key" in wrong.output
        rekeyed = app.test_cli_runner().invoke(main, ["audit-rekey", "--old-key", old],
                                               obj=ScriptInfo(create_app=lambda: app))
        assert rekeyed.exit_code == 0 and f"re-keyed {chain.count} events" in rekeyed.output
        code, output = verify(app)
        assert code == 0 and f"{chain.count + 1} events, 2 signed checkpoints hold" in output
    finally:
        sessions.configure(info={"audit_key": old})
