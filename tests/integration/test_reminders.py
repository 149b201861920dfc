"""Correction deadlines: one reminder N working days before a returned item closes, and the closing as an event."""
from __future__ import annotations

from datetime import date, datetime

from sqlmodel import select

from claims.models import Application, Claim, Decision, Event
from reports.jobs import JobDeps, run_job
from reports.webhooks import deliver_due
from tests.api.test_claim_lifecycle import act, pin_today, register
from tests.api.test_subsidies import apply, listed_firms, step
from tests.helpers import attach_required
from tests.integration.test_webhooks import endpoint, filed_claim
from tests.receiver import Receiver
from workflows.calendar import WorkCalendar
from workflows.evidence import correction_closes_on

CALENDAR = WorkCalendar()


def _returned_on(db, subject_type: str, subject_id: int, at: datetime) -> None:
    # Decisions stamp real time: date the return as the scenario says.
    db.commit()  # end the test session's read snapshot so it sees what the requests wrote
    decision = db.exec(select(Decision).where(Decision.subject_type == subject_type, Decision.subject_id == subject_id,
                                              Decision.action == "return")).one()
    decision.at = at
    db.add(decision)
    db.commit()


def _types(db, subject_type: str, subject_id: int) -> list[str]:
    db.commit()
    return [e.type for e in db.exec(select(Event).where(Event.subject_type == subject_type,
                                                        Event.subject_id == str(subject_id)).order_by(Event.id))]


def test_a_returned_claim_two_working_days_from_closing_gets_one_reminder_then_its_withdrawal(
        app, client, callers, db):
    receiver = Receiver()
    try:
        deps = JobDeps.from_app(app)
        registered = endpoint(client, callers["BANK_A"], receiver.url, ["claim.*"])
        claim = filed_claim(app, client, callers, db, "RM-CL-1", firm_index=7)
        claim = act(client, callers["BANK_A"], claim, "submit")
        claim = act(client, callers["reviewer1"], claim, "start_review")
        claim = act(client, callers["reviewer1"], claim, "return", reason="请补充催收记录")
        _returned_on(db, "claim", claim["id"], datetime(2026, 10, 9, 2, 0))  # 10:00 in Shanghai
        # sz-sme-pool: 20 working days to correct, reminded 2 working days before the closing.
        closes_on = correction_closes_on(date(2026, 10, 9), 20, CALENDAR)
        assert closes_on == date(2026, 11, 6)
        three, two, one = (CALENDAR.add_working_days(closes_on, -n) for n in (3, 2, 1))

        assert run_job(deps, "deadline_reminders", today=three).counts["reminded"] == 0
        assert run_job(deps, "deadline_reminders", today=two).counts["reminded"] == 1
        assert run_job(deps, "deadline_reminders", today=two).counts["reminded"] == 0
        assert run_job(deps, "deadline_reminders", today=one).counts["reminded"] == 0
        assert run_job(deps, "sla_sweep", today=one).counts["closed"] == 0
        swept = run_job(deps, "sla_sweep", today=closes_on)
        assert swept.counts["closed"] == 1
        db.commit()
        assert db.get(Claim, claim["id"]).status == "withdrawn"
        assert _types(db, "claim", claim["id"]) == ["claim.submitted", "claim.review_started", "claim.returned",
                                                    "claim.deadline_due_soon", "claim.withdrawn"]

        deliver_due(app.extensions["claims"]["sessions"], app.extensions["claims"]["settings"])
        payloads = receiver.delivered(registered["secret"])
        reminder, withdrawal = payloads[-2:]
        assert reminder["type"] == "claim.deadline_due_soon"
        assert {k: reminder["data"][k] for k in ("claim", "stage", "returned_on", "closes_on", "working_days_left")} == {
            "claim": claim["id"], "stage": "correction", "returned_on": "2026-10-09", "closes_on": "2026-11-06",
            "working_days_left": 2}
        assert "2026-11-06" in reminder["data"]["message"]
        assert withdrawal["type"] == "claim.withdrawn"
        assert (withdrawal["data"]["action"], withdrawal["data"]["from"], withdrawal["data"]["status"]) == (
            "close_uncorrected", "returned", "withdrawn")
        assert "未补正" in withdrawal["data"]["reason"]
    finally:
        receiver.stop()


def test_a_returned_application_is_reminded_and_closed_by_its_programs_window(app, client, callers, db):
    deps = JobDeps.from_app(app)
    bank_a = callers["BANK_A"]
    firm = listed_firms(db, date(2024, 10, 10))[2]
    pin_today(app, date(2024, 3, 20))
    loan = register(client, bank_a, contract_no="RM-TI-1", enterprise_uscc=firm.uscc, principal="1000000.00",
                    disbursed_on="2024-03-15", maturity_on="2025-03-14", annual_rate="0.0400")
    pin_today(app, date(2024, 10, 10))
    application = apply(client, bank_a, program="sz-tech-interest", loan_id=loan["id"], period_start="2024-07-01",
                        period_end="2024-09-30", basis="10000.00")
    application = attach_required(client, bank_a.headers, application, "applications")
    application = step(client, bank_a, application, "submit")
    application = step(client, callers["reviewer1"], application, "start_review")
    application = step(client, callers["reviewer1"], application, "return", reason="请补充结息单")
    _returned_on(db, "application", application["id"], datetime(2024, 10, 14, 2, 0))
    # sz-tech-interest: 10 working days to correct, reminded 2 working days before.
    closes_on = correction_closes_on(date(2024, 10, 14), 10, CALENDAR)
    assert closes_on == date(2024, 10, 29)
    assert run_job(deps, "deadline_reminders", today=CALENDAR.add_working_days(closes_on, -3)).counts["reminded"] == 0
    assert run_job(deps, "deadline_reminders", today=CALENDAR.add_working_days(closes_on, -2)).counts["reminded"] == 1
    assert run_job(deps, "sla_sweep", today=closes_on).counts["closed"] == 1
    db.commit()
    assert db.get(Application, application["id"]).status == "withdrawn"
    assert _types(db, "application", application["id"])[-2:] == ["application.deadline_due_soon",
                                                                  "application.withdrawn"]
