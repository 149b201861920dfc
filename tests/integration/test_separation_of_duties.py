"""Money controls under attack: separation of duties, what an institution may do, a program of three stages."""
from __future__ import annotations

import pytest

from claims.auth import issue_token
from claims.models import Claim
from claims.services import users as user_service
from tests.helpers import Caller, problem
from tests.integration.program_copies import app_for_markers, fresh
from tests.integration.test_concurrency import TODAY, ClaimFactory

THREE_STAGES = """[[review.stages]]
name = "first_review"
role = "reviewer"
sla_working_days = 5
label = "受托管理机构初审"

[[review.stages]]
name = "second_review"
role = "reviewer"
sla_working_days = 5
label = "主管部门复核"

[[review.stages]]
name = "third_review"
role = "approver"
sla_working_days = 5
label = "市财政局审定"

[[review.stages]]
name = "payment"
role = "payer"
sla_working_days = 5
label = "资金拨付"
"""


@pytest.fixture
def app(request, database_url, tmp_path):
    """The application with sz-sme-pool's caps and stages from the test's markers (tests.integration.program_copies)."""
    yield from app_for_markers(request, database_url, tmp_path)


def test_the_same_person_cannot_approve_and_pay_one_claim(app, callers, db):
    app.extensions["claims"]["today"] = TODAY
    factory = ClaimFactory(app, db)
    admin = factory.actors.staff["admin"]
    s, known = app.extensions["claims"]["settings"], {"sz-sme-pool"}
    dual = user_service.create_user(db, principal=admin, s=s, username="dual1", display_name="审批兼拨付",
                                    password="dual-role-pass-2026", roles=["approver", "payer"], programs=["*"],
                                    known_programs=known)
    caller = Caller({"Authorization": f"Bearer {issue_token(db, dual)}"})
    db.commit()
    claim = factory.claim("second_review")
    client = app.test_client()
    approved = client.post(f"/claims/{claim.id}/transitions", json={"action": "approve"},
                           headers=caller.with_(**{"If-Match": f'"{claim.version}"'}))
    assert approved.status_code == 200, approved.get_json()
    body = problem(client.post(f"/claims/{claim.id}/transitions", json={"action": "pay"},
                               headers=caller.with_(**{"If-Match": approved.headers["ETag"]})), 403,
                   "separation_of_duties")
    assert "payment" in body["detail"]
    paid = client.post(f"/claims/{claim.id}/transitions", json={"action": "pay"},
                       headers=callers["payer1"].with_(**{"If-Match": approved.headers["ETag"]}))
    assert paid.status_code == 200 and paid.get_json()["status"] == "paid"
    # The reviewer who passed a claim cannot pay it either.
    reviewer_payer = user_service.create_user(db, principal=admin, s=s, username="revpay1", display_name="初审兼拨付",
                                              password="rev-pay-pass-2026x", roles=["reviewer", "payer"],
                                              programs=["*"], known_programs=known)
    rp = Caller({"Authorization": f"Bearer {issue_token(db, reviewer_payer)}"})
    db.commit()
    second = factory.claim("submitted", bank="BANK_B")  # BANK_A's payment above trips its loss-ratio breaker
    etag = f'"{second.version}"'
    for who, body in ((rp, {"action": "start_review"}), (rp, {"action": "pass"}),
                      (callers["approver2"], {"action": "approve"})):
        response = client.post(f"/claims/{second.id}/transitions", json=body, headers=who.with_(**{"If-Match": etag}))
        assert response.status_code == 200, response.get_json()
        etag = response.headers["ETag"]
    problem(client.post(f"/claims/{second.id}/transitions", json={"action": "pay"},
                        headers=rp.with_(**{"If-Match": etag})), 403, "separation_of_duties")
    fresh(db)
    assert db.get(Claim, second.id).status == "approved"


def test_an_institution_may_only_submit_resubmit_or_withdraw(app, callers, db):
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("submitted")
    body = problem(app.test_client().post(f"/claims/{claim.id}/transitions", json={"action": "defer"},
                                          headers=callers["BANK_A"].with_(**{"If-Match": f'"{claim.version}"'})),
                   403, "role_not_allowed")
    assert "submit" in body["detail"]


def test_a_recovery_dated_before_the_default_or_in_the_future_is_refused(app, client, callers, db):
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("paid")
    for day in ("2099-01-01", "1900-01-01", "2026-06-19"):
        body = problem(client.post(f"/claims/{claim.id}/recoveries", json={"amount": "100.00", "recovered_on": day},
                                   headers=callers["BANK_A"].headers), 422, "recovery_date_out_of_range")
        assert "recovered_on" in str(body["errors"])
    assert client.post(f"/claims/{claim.id}/recoveries", json={"amount": "100.00", "recovered_on": "2026-09-30"},
                       headers=callers["BANK_A"].headers).status_code == 201


@pytest.mark.stages(THREE_STAGES)
def test_a_program_with_three_review_stages_runs_each_with_a_different_person(app, callers, db):
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("submitted")
    client, etag = app.test_client(), f'"{claim.version}"'

    def act(who: str, action: str, expect: int = 200, **extra):
        nonlocal etag
        response = client.post(f"/claims/{claim.id}/transitions", json={"action": action, **extra},
                               headers=callers[who].with_(**{"If-Match": etag}))
        assert response.status_code == expect, response.get_json()
        if expect == 200:
            etag = response.headers["ETag"]
        return response.get_json()

    act("reviewer1", "start_review")
    assert act("reviewer1", "pass")["status"] == "second_review"
    assert act("reviewer1", "pass", expect=403)["code"] == "four_eyes"  # the same reviewer again
    assert act("reviewer2", "pass")["status"] == "third_review"
    assert act("reviewer2", "approve", expect=403)["code"] == "role_not_allowed"  # the third stage is the approver's
    approved = act("approver1", "approve")
    assert (approved["status"], approved["approved_amount"]) == ("approved", approved["computed_amount"])
    assert act("payer1", "pay")["status"] == "paid"
    decisions = client.get(f"/claims/{claim.id}", headers=callers["auditor1"].headers).get_json()["decisions"]
    assert [d["action"] for d in decisions] == ["submit", "start_review", "pass", "pass", "approve", "pay"]
