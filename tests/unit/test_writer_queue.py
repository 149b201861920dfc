"""SQLite's writers queue on locks that wake them: threads on an in-process lock, processes on a flock."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

from sqlmodel import Session, text

from claims.db import begin_write, make_engine, make_session_factory
from claims.writer_queue import WriterTurn


def test_a_second_writer_waits_for_the_first_and_gives_up_at_its_timeout(tmp_path):
    database = str(tmp_path / "q.db")
    first = WriterTurn(database, timeout=1)
    assert first.acquire()
    assert WriterTurn(database, timeout=0.2).acquire() is False  # still held: refused after its wait
    got = []
    waiter = threading.Thread(target=lambda: got.append(WriterTurn(database, timeout=5).acquire()))
    waiter.start()
    time.sleep(0.2)
    assert got == []  # queued behind the first
    first.release()
    waiter.join(timeout=5)
    assert got == [True]


def test_another_process_holding_the_file_lock_is_waited_for_then_followed(tmp_path):
    database = str(tmp_path / "q.db")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({database + '.writer-lock'!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(0.6)\n")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    turn = WriterTurn(database, timeout=5)
    started = time.monotonic()
    assert turn.acquire()
    waited = time.monotonic() - started
    turn.release()
    holder.wait(timeout=5)
    assert waited >= 0.3  # it waited for the other process rather than writing beside it


def test_the_turn_is_given_back_when_the_write_transaction_commits_or_rolls_back(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    sessions = make_session_factory(engine)
    with sessions() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.commit()
    for end in ("commit", "rollback"):
        with sessions() as session:
            begin_write(session)
            session.execute(text("INSERT INTO t VALUES (1)"))
            assert WriterTurn(str(tmp_path / "q.db"), timeout=0.1).acquire() is False  # held while writing
            getattr(session, end)()
        probe = WriterTurn(str(tmp_path / "q.db"), timeout=0.5)
        assert probe.acquire(), f"the turn was not released on {end}"
        probe.release()
    with Session(engine) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    engine.dispose()
