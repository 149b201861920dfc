"""Webhooks end to end: a real receiver on 127.0.0.1 verifying Standard Webhooks signatures with the
standardwebhooks library; back-off, final failure and redelivery; rotation; the outbox and rollbacks; load."""
from __future__ import annotations

import io

from datetime import date, timedelta

import pytest
from sqlmodel import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from claims.auth import Principal
from claims.db import unit_of_work
from claims.models import Claim, Event, User, WebhookDelivery, WebhookEndpoint
from claims.models.base import utcnow
from claims.services import events
from claims.services.claims import transition_claim
from reports.jobs import JobDeps, run_job
from reports.webhooks import deliver_due
from tests.api.test_claim_lifecycle import act, firm_on_no_list, pin_today, register
from tests.helpers import attach_required, blank_pdf, problem
from tests.receiver import Receiver, reserved_port

LIFE = ["claim.submitted", "claim.review_started", "claim.returned", "claim.resubmitted",
        "claim.first_review_passed", "claim.approved", "claim.paid"]


@pytest.fixture
def ext(app):
    return app.extensions["claims"]


def endpoint(client, caller, url: str, event_types=("claim.*",)) -> dict:
    """Register an endpoint through the API; the answer carries the secret, once."""
    response = client.post("/webhooks/endpoints", json={"url": url, "events": list(event_types)},
                           headers=caller.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def filed_claim(app, client, callers, db, contract_no: str, firm_index: int = 6) -> dict:
    """A draft claim of bank A on a fresh defaulted loan, with every document its program requires."""
    bank_a = callers["BANK_A"]
    pin_today(app, date(2026, 2, 1))
    loan = register(client, bank_a, contract_no=contract_no, enterprise_uscc=firm_on_no_list(db)[firm_index].uscc,
                    principal="600000.00", disbursed_on="2026-01-20", maturity_on="2027-01-19")
    pin_today(app, date(2026, 9, 30))
    client.post(f"/loans/{loan['id']}/status", json={"status": "overdue", "as_of": "2026-09-30",
                                                     "days_overdue": 100}, headers={**bank_a.headers, "If-Match": '"1"'})
    claim = client.post("/claims", json={"loan_id": loan["id"], "default_on": "2026-06-15",
                                         "outstanding_principal": "500000.00"}, headers=bank_a.headers).get_json()
    return attach_required(client, bank_a.headers, claim)


def test_a_claims_whole_life_arrives_in_order_signed_per_standard_webhooks(app, client, callers, db, ext):
    receiver = Receiver()
    try:
        bank_a, reviewer = callers["BANK_A"], callers["reviewer1"]
        registered = endpoint(client, bank_a, receiver.url)
        secret = registered["secret"]
        assert secret.startswith("whsec_") and len(secret) == 50
        shown = client.get(f"/webhooks/endpoints/{registered['id']}", headers=bank_a.headers).get_json()
        assert "secret" not in shown and shown["events"] == ["claim.*"]

        claim = filed_claim(app, client, callers, db, "WH-LIFE-1")
        claim = act(client, bank_a, claim, "submit")
        claim = act(client, reviewer, claim, "start_review")
        claim = act(client, reviewer, claim, "return", reason="催收记录不全",
                    documents_requested=[{"kind": "collection_statement", "note": "补充上门催收记录"}])
        client.post(f"/claims/{claim['id']}/documents", headers=bank_a.headers, content_type="multipart/form-data",
                    data={"kind": "collection_statement", "file": (io.BytesIO(blank_pdf()),
                                                                    "催收.pdf")})
        claim = act(client, bank_a, claim, "resubmit")
        claim = act(client, reviewer, claim, "pass")
        claim = act(client, callers["approver2"], claim, "approve")
        claim = act(client, callers["payer1"], claim, "pay")

        run = run_job(JobDeps.from_app(app), "webhook_delivery")
        assert (run.status, run.counts["attempted"], run.counts["delivered"]) == ("done", 7, 7)
        payloads = receiver.delivered(secret)  # raises unless every signature verifies
        assert [p["type"] for p in payloads] == LIFE
        assert [p["data"]["status"] for p in payloads] == ["submitted", "first_review", "returned", "first_review",
                                                           "second_review", "approved", "paid"]
        returned = payloads[2]["data"]
        assert (returned["reason"], returned["documents_requested"]) == ("催收记录不全", [
            {"kind": "collection_statement", "label": "催收情况说明", "count": 1, "note": "补充上门催收记录"}])
        assert payloads[-1]["data"]["paid_amount"] == claim["paid_amount"] == claim["computed_amount"]
        ids = [headers["webhook-id"] for headers, _, _ in receiver.requests]
        assert ids == [p["id"] for p in payloads] and len(set(ids)) == 7
        assert all(h["webhook-signature"].startswith("v1,") and " " not in h["webhook-signature"]
                   for h, _, _ in receiver.requests)

        # The same events, in the same order, for a bank that polls; and nothing new since a later time.
        polled = client.get("/events?type=claim.paid", headers=bank_a.headers).get_json()
        assert [e["id"] for e in polled] == ids[-1:]
        listed = client.get("/events?page_size=100", headers=bank_a.headers)
        assert [e["id"] for e in listed.get_json() if e["type"].startswith("claim.")] == ids
        assert '"total": ' in listed.headers["X-Pagination"]
        later = (utcnow() + timedelta(minutes=1)).isoformat()
        assert client.get(f"/events?updated_since={later}", headers=bank_a.headers).get_json() == []
        assert client.get("/events", headers=callers["BANK_B"].headers).get_json() == []

        log = client.get(f"/webhooks/endpoints/{registered['id']}/deliveries", headers=bank_a.headers).get_json()
        assert [(d["event_type"], d["status"], d["attempts"], [a["status_code"] for a in d["log"]]) for d in log] == [
            (t, "delivered", 1, [204]) for t in reversed(LIFE)]
        again = run_job(JobDeps.from_app(app), "webhook_delivery")
        assert again.counts["attempted"] == 0 and len(receiver.requests) == 7
    finally:
        receiver.stop()


def test_a_receiver_down_for_three_attempts_gets_the_event_on_the_fourth(app, client, callers, db, ext):
    held = reserved_port()
    port = held.getsockname()[1]
    receiver = None
    try:
        registered = endpoint(client, callers["BANK_A"], f"http://127.0.0.1:{port}/hooks", ["claim.submitted"])
        act(client, callers["BANK_A"], filed_claim(app, client, callers, db, "WH-DOWN-1"), "submit")
        sessions, settings = ext["sessions"], ext["settings"]
        t0 = utcnow()
        waits = []
        for attempt, at in enumerate((t0, t0 + timedelta(seconds=60), t0 + timedelta(seconds=180)), start=1):
            counts = deliver_due(sessions, settings, now=at)
            assert (counts.attempted, counts.retrying) == (1, 1)
            with sessions() as session:
                delivery = session.exec(select(WebhookDelivery)).one()
            assert (delivery.status, delivery.attempts) == ("pending", attempt)
            waits.append((delivery.next_attempt_at - at).total_seconds())
            # Not due before its back-off has passed.
            assert deliver_due(sessions, settings, now=delivery.next_attempt_at - timedelta(seconds=1)).attempted == 0
        assert waits == [60, 120, 240]
        held.close()
        receiver = Receiver(port=port)
        counts = deliver_due(sessions, settings, now=t0 + timedelta(seconds=420))
        assert (counts.attempted, counts.delivered) == (1, 1)
        [payload] = receiver.delivered(registered["secret"])
        assert payload["type"] == "claim.submitted"
        log = client.get(f"/webhooks/endpoints/{registered['id']}/deliveries",
                         headers=callers["BANK_A"].headers).get_json()
        [delivery] = log
        assert (delivery["status"], delivery["attempts"]) == ("delivered", 4)
        assert [a["status_code"] for a in delivery["log"]] == [None, None, None, 204]
        assert all("Connection" in a["error"] for a in delivery["log"][:3])
    finally:
        held.close()
        if receiver:
            receiver.stop()


def test_a_failed_delivery_is_kept_and_redelivered_with_the_same_id(app, client, callers, db, ext):
    answers = {"status": 500}
    receiver = Receiver(answer=lambda n: answers["status"])
    try:
        bank_a = callers["BANK_A"]
        registered = endpoint(client, bank_a, receiver.url, ["claim.*"])
        act(client, bank_a, filed_claim(app, client, callers, db, "WH-FAIL-1"), "submit")
        settings = ext["settings"].with_overrides(webhook_max_attempts=2)
        t0 = utcnow()
        deliver_due(ext["sessions"], settings, now=t0)
        final = deliver_due(ext["sessions"], settings, now=t0 + timedelta(hours=1))
        assert final.failed == 1
        [delivery] = client.get(f"/webhooks/endpoints/{registered['id']}/deliveries?status=failed",
                                headers=bank_a.headers).get_json()
        assert (delivery["attempts"], delivery["last_status_code"], delivery["next_attempt_at"]) == (2, 500, None)
        assert deliver_due(ext["sessions"], settings, now=t0 + timedelta(days=30)).attempted == 0
        problem(client.post(f"/webhooks/endpoints/{registered['id']}/deliveries/{delivery['id']}/redeliver",
                            headers=callers["BANK_B"].headers), 404)
        again = client.post(f"/webhooks/endpoints/{registered['id']}/deliveries/{delivery['id']}/redeliver",
                            headers=bank_a.headers)
        assert again.status_code == 202 and (again.get_json()["status"], again.get_json()["attempts"]) == ("pending", 0)
        answers["status"] = 200
        assert deliver_due(ext["sessions"], settings).delivered == 1
        ids = {headers["webhook-id"] for headers, _, _ in receiver.requests}
        assert len(receiver.requests) == 3 and len(ids) == 1
        assert [p["type"] for p in receiver.delivered(registered["secret"])] == ["claim.submitted"]
    finally:
        receiver.stop()


def test_a_rotated_secret_signs_alongside_the_old_one_until_the_overlap_ends(app, client, callers, db, ext):
    receiver = Receiver()
    try:
        bank_a = callers["BANK_A"]
        old = endpoint(client, bank_a, receiver.url, ["claim.*"])
        rotated = client.post(f"/webhooks/endpoints/{old['id']}/secret", headers=bank_a.headers).get_json()
        assert rotated["secret"] != old["secret"] and rotated["previous_secret_expires_at"]
        claim = act(client, bank_a, filed_claim(app, client, callers, db, "WH-ROT-1"), "submit")
        deliver_due(ext["sessions"], ext["settings"])
        headers, body, _ = receiver.requests[0]
        assert len(headers["webhook-signature"].split(" ")) == 2
        for secret in (old["secret"], rotated["secret"]):
            assert Webhook(secret).verify(body, headers)["type"] == "claim.submitted"
        with unit_of_work(ext["sessions"]) as session:
            row = session.get(WebhookEndpoint, old["id"])
            row.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
            session.add(row)
        act(client, bank_a, claim, "withdraw")
        deliver_due(ext["sessions"], ext["settings"])
        headers, body, _ = receiver.requests[1]
        assert Webhook(rotated["secret"]).verify(body, headers)["type"] == "claim.withdrawn"
        with pytest.raises(WebhookVerificationError):
            Webhook(old["secret"]).verify(body, headers)
    finally:
        receiver.stop()


def test_a_rolled_back_transition_emits_nothing(app, client, callers, db, ext, monkeypatch):
    receiver = Receiver()
    try:
        registered = endpoint(client, callers["BANK_A"], receiver.url, ["claim.*"])
        claim = filed_claim(app, client, callers, db, "WH-RB-1")
        for who, action in (("BANK_A", "submit"), ("reviewer1", "start_review"), ("reviewer1", "pass")):
            claim = act(client, callers[who], claim, action)
        emitted = []
        real_emit = events.emit_transition

        def spy(session, **kwargs):
            emitted.append(real_emit(session, **kwargs).type)

        def crash(*args, **kwargs):
            raise RuntimeError("the process fails after the event was written, before the commit")

        monkeypatch.setattr("claims.services.events.emit_transition", spy)
        monkeypatch.setattr("claims.services.claims.breakers.evaluate_breaker", crash)
        with ext["sessions"]() as session:
            user = session.exec(select(User).where(User.username == "approver2")).one()
            approver = Principal(kind="staff", name=user.display_name, roles=user.role_set, user_id=user.id)
            with pytest.raises(RuntimeError):
                transition_claim(session, principal=approver, registry=ext["programs"], claim_id=claim["id"],
                                 action="approve", expected_version=claim["version"], today=date(2026, 9, 30))
            session.rollback()
        assert emitted == ["claim.approved"]  # the event was written inside the transaction that rolled back
        db.commit()
        assert db.get(Claim, claim["id"]).status == "second_review"
        assert [e.type for e in db.exec(select(Event).order_by(Event.id))] == [
            "claim.submitted", "claim.review_started", "claim.first_review_passed"]
        assert len(db.exec(select(WebhookDelivery)).all()) == 3
        deliver_due(ext["sessions"], ext["settings"])
        assert [p["type"] for p in receiver.delivered(registered["secret"])] == [
            "claim.submitted", "claim.review_started", "claim.first_review_passed"]
    finally:
        receiver.stop()
