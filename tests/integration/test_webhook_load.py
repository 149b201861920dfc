"""A thousand webhook events written by concurrent transactions (some rolled back) while the delivery job
runs against a receiver that refuses every 10th request: none lost, none delivered twice, none from rollbacks."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from sqlmodel import select

from claims.db import unit_of_work
from claims.models import WebhookDelivery
from claims.models.base import utcnow
from claims.services import events
from reports.webhooks import deliver_due
from tests.integration.test_webhooks import endpoint
from tests.receiver import Receiver


def test_a_thousand_events_under_load_arrive_once_each_and_none_from_rolled_back_work(app, client, callers):
    ext = app.extensions["claims"]
    # Every 10th request fails with 503, so retries run while events are still being written.
    receiver = Receiver(answer=lambda n: 503 if n % 10 == 0 else 204)
    try:
        bank_a = callers["BANK_A"]
        registered = endpoint(client, bank_a, receiver.url, ["*"])
        sessions, settings = ext["sessions"], ext["settings"]
        committed, rolled_back, lock = [], [], threading.Lock()
        writing = threading.Event()
        writing.set()

        def writer(worker: int) -> None:
            for batch in range(30):
                ids = []
                try:
                    with unit_of_work(sessions) as session:
                        for n in range(10):
                            event = events.emit(session, type="statement.issued", institution_id=bank_a.institution_id,
                                                subject_type="statement", subject_id=f"{worker}-{batch}-{n}",
                                                data={"worker": worker, "batch": batch, "n": n})
                            ids.append(event.event_id)
                        if batch % 6 == 5:
                            raise RuntimeError("this batch rolls back")
                except RuntimeError:
                    with lock:
                        rolled_back.extend(ids)
                    continue
                with lock:
                    committed.extend(ids)

        passes = []

        def deliverer() -> None:
            while True:
                still_writing = writing.is_set()
                # A day further ahead each pass: retries are due at once (this test is about loss and
                # duplicates; the back-off has its own test).
                counts = deliver_due(sessions, settings, now=utcnow() + timedelta(days=len(passes) + 1))
                passes.append(counts)
                if not still_writing and counts.attempted == 0:
                    return
                if counts.attempted == 0:
                    time.sleep(0.05)

        started = time.monotonic()
        writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        sender = threading.Thread(target=deliverer)
        for thread in (*writers, sender):
            thread.start()
        for thread in writers:
            thread.join()
        writing.clear()
        sender.join(timeout=300)
        elapsed = time.monotonic() - started
        assert not sender.is_alive()

        assert (len(committed), len(rolled_back)) == (1000, 200)
        accepted = Counter(h["webhook-id"] for h, _, status in receiver.requests if status == 204)
        refused = [h["webhook-id"] for h, _, status in receiver.requests if status == 503]
        lost = set(committed) - set(accepted)
        duplicated = [i for i, n in accepted.items() if n > 1]
        assert (len(lost), len(duplicated)) == (0, 0)
        assert not set(accepted) & set(rolled_back) and set(accepted) == set(committed)
        assert set(refused) <= set(committed) and len(receiver.requests) == 1000 + len(refused)
        verified = receiver.delivered(registered["secret"])
        assert len(verified) == 1000
        with sessions() as session:
            statuses = Counter(d.status for d in session.exec(select(WebhookDelivery)))
        assert statuses == {"delivered": 1000}
        print(f"\nwebhook load ({ext['engine'].dialect.name}): 1000 committed + 200 rolled back events, "
              f"{len(receiver.requests)} requests ({len(refused)} refused with 503 and retried), "
              f"0 lost, 0 duplicated, {len(passes)} delivery passes, {elapsed:.1f} s")
    finally:
        receiver.stop()
