"""Money controls under attack: caps under concurrent approvals and at a year end.

Each test runs a copy of the shipped sz-sme-pool program whose [caps] the test sets, so the cap under
test is the one that binds: every claim below computes 30 % of 1,000,000.00 = 300,000.00.
"""
from __future__ import annotations

import dataclasses
import threading
from datetime import date

import pytest

from claims import ledger
from claims.audit import verify_chain
from claims.models import Claim
from claims.services import claims as claim_service
from tests.helpers import problem
from tests.integration.program_copies import app_for_markers, fresh
from tests.integration.test_concurrency import TODAY, ClaimFactory, fire_together

OUTSTANDING_FEN = 100_000_000  # 1,000,000.00 x 30 % = 300,000.00 per claim
COMPUTED = "300000.00"
INSTITUTION_CAP = """[caps]
per_loan = "3000000.00"
per_enterprise_year = "3000000.00"
per_institution_year = "500000.00"
per_institution_year_share_of_registered = "1.00"
share_of_registered_year = "registration_year"
"""
FIRM_CAP = """[caps]
per_loan = "3000000.00"
per_enterprise_year = "400000.00"
per_institution_year_share_of_registered = "1.00"
share_of_registered_year = "registration_year"
"""




@pytest.fixture
def app(request, database_url, tmp_path):
    """The application with sz-sme-pool's caps and stages from the test's markers (tests.integration.program_copies)."""
    yield from app_for_markers(request, database_url, tmp_path)


def _approve_all_at_once(app, approver, claims: list[Claim]) -> list[tuple[int, dict]]:
    return fire_together(app, [(f"/claims/{c.id}/transitions", {"action": "approve"},
                                approver.with_(**{"If-Match": f'"{c.version}"'})) for c in claims])


def _committed_fen(db, claim_ids) -> int:
    fresh(db)
    return sum(db.get(Claim, i).approved_fen or 0 for i in claim_ids if db.get(Claim, i).status in ("approved", "paid"))


def _revoke_approved(app, approver, db, claim_ids) -> None:
    """Give the round's approvals back (revoked, budget released) so the next round starts from an empty cap."""
    client = app.test_client()
    fresh(db)
    for claim_id in claim_ids:
        claim = db.get(Claim, claim_id)
        if claim.status == "approved":
            response = client.post(f"/claims/{claim_id}/transitions", json={"action": "revoke", "reason": "轮次结束撤销"},
                                   headers=approver.with_(**{"If-Match": f'"{claim.version}"'}))
            assert response.status_code == 200, response.get_json()


def _rounds(database_url: str) -> int:
    return 20 if database_url.startswith("postgresql") else 3


@pytest.mark.caps(INSTITUTION_CAP)
def test_ten_concurrent_approvals_never_pass_the_institution_year_cap(app, callers, db, database_url):
    app.extensions["claims"]["today"] = TODAY
    factory, approver = ClaimFactory(app, db), callers["approver2"]
    overruns, approved_counts = 0, []
    for _round in range(_rounds(database_url)):
        waiting = [factory.claim("second_review", outstanding_fen=OUTSTANDING_FEN) for _ in range(10)]
        assert {c.computed_fen for c in waiting} == {30_000_000}
        responses = _approve_all_at_once(app, approver, waiting)
        granted = _committed_fen(db, [c.id for c in waiting])
        overruns += granted > 50_000_000
        ok = [body for status, body in responses if status == 200]
        refused = [(status, body["code"]) for status, body in responses if status != 200]
        # 300,000.00 fits once; the next sees 200,000.00 of room and is refused with the new amount to confirm.
        assert len(ok) == 1 and ok[0]["approved_amount"] == COMPUTED, responses
        assert set(refused) == {(409, "amount_changed")}, refused
        changed = [body for status, body in responses if status == 409]
        assert {b["computed_amount"] for b in changed} == {"200000.00"}
        assert all(b["binding_cap"] == "per_institution_year" and b["binding_step"]["detail"]["used"] == COMPUTED
                   for b in changed)
        approved_counts.append(len(ok))
        # The approver confirms the cut amount on one of them: the cap is then exactly full.
        fresh(db)
        target = next(db.get(Claim, c.id) for c in waiting if db.get(Claim, c.id).status == "second_review")
        cut = app.test_client().post(f"/claims/{target.id}/transitions",
                                     json={"action": "approve", "amount": "200000.00", "reason": "机构年度上限余额"},
                                     headers=approver.with_(**{"If-Match": f'"{target.version}"'}))
        assert cut.status_code == 200 and cut.get_json()["approved_amount"] == "200000.00", cut.get_json()
        assert _committed_fen(db, [c.id for c in waiting]) == 50_000_000
        # Nothing is left: a further approval is refused naming the cap, never approved at 0.00.
        last = next(db.get(Claim, c.id) for c in waiting if db.get(Claim, c.id).status == "second_review")
        refused_body = problem(app.test_client().post(
            f"/claims/{last.id}/transitions", json={"action": "approve"},
            headers=approver.with_(**{"If-Match": f'"{last.version}"'})), 422, "cap_exhausted")
        assert (refused_body["cap"], refused_body["used"]) == ("per_institution_year", "500000.00")
        _revoke_approved(app, approver, db, [c.id for c in waiting])
    assert overruns == 0 and len(approved_counts) == _rounds(database_url)
    assert ledger.trial_balance(db) == 0 and verify_chain(db).ok


@pytest.mark.caps(FIRM_CAP)
def test_pairs_of_one_firms_claims_approved_at_once_never_pass_the_firm_cap(app, callers, db, database_url):
    app.extensions["claims"]["today"] = TODAY
    factory, approver = ClaimFactory(app, db), callers["approver2"]
    overruns = 0
    for _round in range(_rounds(database_url)):
        pairs = []
        for _ in range(3):
            firm = next(factory.firms)
            pairs.append([factory.claim("second_review", outstanding_fen=OUTSTANDING_FEN, firm=firm) for _ in range(2)])
        responses = _approve_all_at_once(app, approver, [c for pair in pairs for c in pair])
        for index, pair in enumerate(pairs):
            granted = _committed_fen(db, [c.id for c in pair])
            overruns += granted > 40_000_000
            codes = sorted(responses[2 * index + k][0] for k in range(2))
            assert codes == [200, 409], responses
            assert granted == 30_000_000
        _revoke_approved(app, approver, db, [c.id for pair in pairs for c in pair])
    assert overruns == 0
    assert ledger.trial_balance(db) == 0


@pytest.mark.caps(INSTITUTION_CAP)
def test_an_approval_paused_after_computing_is_seen_by_the_next_one(app, callers, db, monkeypatch):
    """Deterministic interleaving: A stops right after its recompute; B, started then, waits and sees A's grant."""
    app.extensions["claims"]["today"] = TODAY
    factory, approver = ClaimFactory(app, db), callers["approver2"]
    first, second = (factory.claim("second_review", outstanding_fen=OUTSTANDING_FEN) for _ in range(2))
    db.commit()
    computed, release = threading.Event(), threading.Event()
    original = claim_service.CLAIM_REVIEW

    def compute_then_pause(session, registry, claim, today):
        result = original.compute(session, registry, claim, today)
        if claim.id == first.id and claim.status == "second_review":
            computed.set()
            assert release.wait(30)
        return result

    monkeypatch.setattr(claim_service, "CLAIM_REVIEW", dataclasses.replace(original, compute=compute_then_pause))
    results: dict[str, tuple[int, dict]] = {}

    def approve(name: str, claim: Claim) -> None:
        response = app.test_client().post(f"/claims/{claim.id}/transitions", json={"action": "approve"},
                                          headers=approver.with_(**{"If-Match": f'"{claim.version}"'}))
        results[name] = (response.status_code, response.get_json())

    a = threading.Thread(target=approve, args=("A", first))
    a.start()
    assert computed.wait(30), "A never reached its recompute"
    b = threading.Thread(target=approve, args=("B", second))
    b.start()
    b.join(timeout=1.5)
    assert b.is_alive(), "B ran while A held the cap's lock"
    release.set()
    a.join(30)
    b.join(30)
    assert results["A"][0] == 200 and results["A"][1]["approved_amount"] == COMPUTED
    status, body = results["B"]
    assert (status, body["code"], body["computed_amount"]) == (409, "amount_changed", "200000.00")


def test_a_claim_computed_in_september_is_approved_in_january_at_its_full_amount(app, callers, db):
    """The shipped pool counts its share-of-registered cap by the loan's registration year: never 0.00 in January."""
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("second_review", outstanding_fen=OUTSTANDING_FEN)
    # 300,000.00 computed, bound by 5 % of the 1,000,000.00 the bank registered in 2026: 50,000.00.
    cap = next(s for s in claim.trace if s["step"] == "cap:per_institution_year_share_of_registered")
    assert (claim.computed_fen, cap["detail"]["limit"], cap["detail"]["bound"]) == (5_000_000, "50000.00", True)
    app.extensions["claims"]["today"] = date(2027, 1, 5)  # nothing registered yet in 2027
    response = app.test_client().post(f"/claims/{claim.id}/transitions", json={"action": "approve"},
                                      headers=callers["approver2"].with_(**{"If-Match": f'"{claim.version}"'}))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["approved_amount"]) == ("approved", "50000.00")
    fresh(db)
    assert db.get(Claim, claim.id).budget_year == 2027


@pytest.mark.caps(INSTITUTION_CAP.replace('share_of_registered_year = "registration_year"',
                                          'share_of_registered_year = "claim_year"'))
def test_a_cap_counted_by_the_claim_year_with_no_room_in_january_refuses_instead_of_approving_zero(app, callers, db):
    app.extensions["claims"]["today"] = TODAY
    claim = ClaimFactory(app, db).claim("second_review", outstanding_fen=OUTSTANDING_FEN)
    app.extensions["claims"]["today"] = date(2027, 1, 5)
    body = problem(app.test_client().post(f"/claims/{claim.id}/transitions", json={"action": "approve"},
                                          headers=callers["approver2"].with_(**{"If-Match": f'"{claim.version}"'})),
                   422, "cap_exhausted")
    assert body["cap"] == "per_institution_year_share_of_registered" and body["limit"] == "0.00"
    fresh(db)
    after = db.get(Claim, claim.id)
    assert (after.status, after.approved_fen, after.version) == ("second_review", None, claim.version)
