"""Applications replayed against the caps every subsidy shares, and with the loan's state history computed them with.

The firm caps over all subsidies (per_firm_year 1,000,000.00 in both Shenzhen subsidy programs) count every
subsidy program's approvals, as the live check does: another program's approvals before the range open the
replay's usage, and those inside it count from the day history approved them. An interest subsidy is
replayed with the loan as it stood when history computed it, not as it stands today.
"""
from __future__ import annotations

import time
from datetime import date, datetime

from sqlmodel import select

from claims.models import Application, Decision, Enterprise, Institution, ListMembership, Loan, RuleVersion

YUAN = 100


def _rule(db, code: str) -> RuleVersion:
    return db.exec(select(RuleVersion).where(RuleVersion.program_code == code)).one()


def _loan(db, bank, firm, rule, contract: str, status: str = "current") -> Loan:
    loan = Loan(institution_id=bank.id, program_code=rule.program_code, rule_version_id=rule.id, enterprise_id=firm.id,
                contract_no=contract, principal_fen=5_000_000 * YUAN, disbursed_on=date(2024, 3, 1),
                maturity_on=date(2025, 2, 28), annual_rate="0.0435", security_type="guaranteed", first_loan=False,
                status=status)
    db.add(loan)
    db.flush()
    return loan


def _approved(db, application: Application, on: datetime) -> int:
    db.add(application)
    db.flush()
    db.add(Decision(subject_type="application", subject_id=application.id, actor="approver1", role="approver",
                    action="approve", from_state="second_review", to_state="approved", at=on))
    return application.id


def _firm(db, n: int) -> Enterprise:
    firm = Enterprise(uscc=f"SHARED{n:012d}", name=f"共享上限高企{n}")
    db.add(firm)
    db.flush()
    db.add(ListMembership(enterprise_id=firm.id, category="high_tech", valid_from=date(2022, 1, 1)))
    return firm


def _run(client, caller, program: str, version: str, date_from: str) -> tuple[dict, list[dict]]:
    started = client.post(f"/programs/{program}/simulations", json={
        "version": version, "kinds": ["applications"], "date_from": date_from, "date_to": "2024-12-31"},
        headers=caller.headers)
    assert started.status_code == 202, started.get_json()
    url = f"/programs/{program}/simulations/{started.get_json()['id']}"
    for _ in range(600):
        body = client.get(url, headers=caller.headers).get_json()
        if body["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert body["status"] == "done", body
    return body, client.get(f"{url}/items?page_size=100", headers=caller.headers).get_json()


def _copy(client, admin, program: str, version: str, changes: dict) -> None:
    made = client.post(f"/programs/{program}/drafts/copy", json={"from_version": "2023.1", "version": version,
                                                                 "set": changes}, headers=admin.headers)
    assert made.status_code == 201, made.get_json()


def test_other_subsidy_programs_approvals_use_up_the_firm_cap_before_and_during_the_range(client, callers, db):
    fee, interest = _rule(db, "sz-tech-fee"), _rule(db, "sz-tech-interest")
    bank = db.exec(select(Institution).where(Institution.code == "BANK_A")).one()
    firm = _firm(db, 1)
    fee_loan, interest_loan = _loan(db, bank, firm, fee, "SHARED-FEE"), _loan(db, bank, firm, interest, "SHARED-INT")

    def interest_subsidy(amount_yuan: int, on: datetime) -> int:
        return _approved(db, Application(
            institution_id=bank.id, program_code="sz-tech-interest", rule_version_id=interest.id,
            kind="interest_subsidy", enterprise_id=firm.id, loan_id=interest_loan.id, status="paid",
            period_start=date(2024, 1, 1), period_end=date(2024, 3, 31), applied_on=date(2024, 4, 10),
            basis_fen=2 * amount_yuan * YUAN, budget_year=2024, computed_fen=amount_yuan * YUAN,
            approved_fen=amount_yuan * YUAN, submitted_at=on), on)

    def fee_subsidy(fee_yuan: int, on: datetime) -> int:
        return _approved(db, Application(
            institution_id=bank.id, program_code="sz-tech-fee", rule_version_id=fee.id, kind="fee_subsidy",
            enterprise_id=firm.id, loan_id=fee_loan.id, fee_kind="guarantee_fee", status="approved",
            period_start=date(2024, 1, 1), period_end=date(2024, 3, 31), applied_on=date(2024, 4, 10),
            basis_fen=fee_yuan * YUAN, budget_year=2024, approved_fen=fee_yuan * YUAN // 2, submitted_at=on), on)

    interest_subsidy(800_000, datetime(2024, 3, 20, 10, 0))  # before the range: the replay opens with it
    first = fee_subsidy(300_000, datetime(2024, 4, 20, 10, 0))
    interest_subsidy(30_000, datetime(2024, 5, 10, 10, 0))  # inside the range: counted from its day
    second = fee_subsidy(100_000, datetime(2024, 6, 1, 10, 0))
    db.commit()
    _copy(client, callers["admin"], "sz-tech-fee", "2028.12", {"fee.kinds[0].share": "0.60"})

    body, items = _run(client, callers["auditor1"], "sz-tech-fee", "2028.12", "2024-04-01")

    by_id = {item["claim_id"]: item for item in items}
    assert len(items) == 2  # the interest subsidies are not repriced, only counted
    # 50 % of the 300,000.00 fee fits the 200,000.00 the firm has left of its 1,000,000.00 (60 % too).
    assert (by_id[first]["baseline"], by_id[first]["draft"]) == ("150000.00", "180000.00")
    # Left for the second: 1,000,000.00 - 800,000.00 - 30,000.00 - the first's 150,000.00 (baseline) or
    # 180,000.00 (draft): 20,000.00 and nothing.
    assert [(by_id[second][k]) for k in ("baseline", "draft", "baseline_binding", "draft_binding")] == [
        "20000.00", "0.00", "per_firm_year_all_subsidies", "per_firm_year_all_subsidies"]
    assert body["totals"]["approved"] == {"baseline": "170000.00", "draft": "180000.00", "delta": "10000.00"}


def test_an_interest_subsidy_is_replayed_with_the_loan_as_it_stood_when_history_computed_it(client, callers, db):
    interest = _rule(db, "sz-tech-interest")
    bank = db.exec(select(Institution).where(Institution.code == "BANK_A")).one()
    ids = {}
    # Both loans have defaulted since; the first was current when its subsidy was computed, the second was not.
    for n, was_overdue in ((1, False), (2, True)):
        firm = _firm(db, 10 + n)
        loan = _loan(db, bank, firm, interest, f"SHARED-NPL-{n}", status="non_performing")
        trace = [{"step": "inputs", "value": None, "detail": {"overdue": was_overdue, "extended": False}}]
        ids[was_overdue] = _approved(db, Application(
            institution_id=bank.id, program_code="sz-tech-interest", rule_version_id=interest.id,
            kind="interest_subsidy", enterprise_id=firm.id, loan_id=loan.id, status="approved",
            period_start=date(2024, 4, 1), period_end=date(2024, 6, 30), applied_on=date(2024, 7, 10),
            basis_fen=100_000 * YUAN, budget_year=2024, computed_fen=0, approved_fen=0, trace=trace,
            submitted_at=datetime(2024, 7, 10, 9, 0)), datetime(2024, 7, 20, 10, 0))
    db.commit()
    _copy(client, callers["admin"], "sz-tech-interest", "2028.12", {"interest.share": "0.60"})

    _, items = _run(client, callers["auditor1"], "sz-tech-interest", "2028.12", "2024-01-01")

    by_id = {item["claim_id"]: item for item in items}
    # 4.35 % is under the LPR + 150 bp ceiling, so all the 100,000.00 of interest paid counts: 50 %, then 60 %.
    current = by_id[ids[False]]
    assert (current["baseline"], current["draft"], current["baseline_eligible"]) == ("50000.00", "60000.00", True)
    overdue = by_id[ids[True]]
    assert (overdue["baseline"], overdue["draft"], overdue["delta"]) == ("0.00", "0.00", "0.00")
