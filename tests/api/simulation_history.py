"""A small approved history of sz-sme-pool claims, written straight into the tables for the simulator to replay.

Two banks; BANK_A's 2024 loans total 36,000,000.00 registered, so its 5 % cohort cap is 1,800,000.00 and binds
on its fifth and sixth claims; BANK_B's base is large enough that nothing binds there. Claims are created in
the reverse of the order they are approved, so history's order is not the order of ids.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import select

from claims.models import (
    Claim,
    Decision,
    Enterprise,
    Institution,
    ListMembership,
    Loan,
    RuleVersion,
)

YUAN = 100


@dataclass(frozen=True)
class Case:
    name: str
    bank: str
    listed: bool
    first_loan: bool
    status: str  # approved, paid or rejected
    approved_day: int | None  # day of February 2025 the approver approved it
    approved_yuan: int = 0  # what history approved (what the live rule computed then)


# In approval order (c9 was rejected, never approved; it is dated by its submission).
CASES = [
    Case("c1", "BANK_A", True, False, "paid", 3, 400000),
    Case("c2", "BANK_A", False, False, "approved", 4, 300000),
    Case("c3", "BANK_A", True, True, "approved", 5, 450000),
    Case("c4", "BANK_A", True, False, "approved", 6, 400000),
    Case("c5", "BANK_A", True, False, "approved", 7, 250000),
    Case("c6", "BANK_A", False, False, "approved", 10),
    Case("c7", "BANK_B", True, False, "paid", 11, 400000),
    Case("c8", "BANK_B", False, True, "approved", 12, 350000),
    Case("c9", "BANK_B", True, False, "rejected", None),
]
LOSS_FEN = 1_000_000 * YUAN
FILLER_FEN = {"BANK_A": 30_000_000 * YUAN, "BANK_B": 100_000_000 * YUAN}


def _firms(db) -> tuple[list[Enterprise], list[Enterprise]]:
    """Firms whose only list is high_tech (in force on the loans' disbursement day), and firms on no list."""
    on = date(2024, 3, 1)
    members: dict[int, list[ListMembership]] = {}
    for m in db.exec(select(ListMembership)):
        members.setdefault(m.enterprise_id, []).append(m)
    listed, plain = [], []
    for firm in db.exec(select(Enterprise).order_by(Enterprise.id)):
        if (firm.industry or "").upper().startswith("K"):
            continue
        rows = members.get(firm.id, [])
        if not rows:
            plain.append(firm)
        elif len(rows) == 1 and rows[0].category == "high_tech" and rows[0].revoked_on is None and \
                rows[0].valid_from <= on and (rows[0].valid_to is None or on <= rows[0].valid_to):
            listed.append(firm)
    assert listed and plain, "the seeds need a high-tech-only firm and a firm on no list"
    return listed, plain


def seed_history(db) -> dict[str, int]:
    """Write the loans, claims and approvals; the claim id of each case by name."""
    rule = db.exec(select(RuleVersion).where(RuleVersion.program_code == "sz-sme-pool",
                                             RuleVersion.version == "2023.1")).one()
    banks = {i.code: i.id for i in db.exec(select(Institution))}
    listed, plain = _firms(db)

    def loan(bank: str, firm: Enterprise, principal: int, first_loan: bool, n: int) -> Loan:
        row = Loan(institution_id=banks[bank], program_code="sz-sme-pool", rule_version_id=rule.id,
                   enterprise_id=firm.id, contract_no=f"SIM-{bank}-{n}", principal_fen=principal,
                   disbursed_on=date(2024, 3, 1), maturity_on=date(2025, 2, 28), annual_rate="0.0435",
                   security_type="unsecured", first_loan=first_loan, status="defaulted")
        db.add(row)
        return row

    for n, (bank, total) in enumerate(FILLER_FEN.items()):
        loan(bank, plain[0], total, False, 1000 + n)
    ids = {}
    for n, case in reversed(list(enumerate(CASES))):
        firm = (listed if case.listed else plain)[n % len(listed if case.listed else plain)]
        row = loan(case.bank, firm, LOSS_FEN, case.first_loan, n)
        db.flush()
        committed = case.status in ("approved", "paid")
        claim = Claim(loan_id=row.id, institution_id=banks[case.bank], program_code="sz-sme-pool",
                      rule_version_id=rule.id, status=case.status, default_on=date(2024, 9, 1), days_overdue=131,
                      outstanding_principal_fen=LOSS_FEN, budget_year=2025 if committed else None,
                      computed_fen=case.approved_yuan * YUAN, approved_fen=case.approved_yuan * YUAN if committed else None,
                      paid_fen=case.approved_yuan * YUAN if case.status == "paid" else 0,
                      submitted_at=datetime(2025, 1, 10 + n, 9, 0))
        db.add(claim)
        db.flush()
        ids[case.name] = claim.id
        if case.approved_day:
            db.add(Decision(subject_type="claim", subject_id=claim.id, actor="approver1", role="approver",
                            action="approve", from_state="second_review", to_state="approved",
                            at=datetime(2025, 2, case.approved_day, 10, 0)))
    db.commit()
    return ids


def seed_fee_applications(db) -> dict[str, int]:
    """Approved guarantee-fee subsidies of sz-tech-fee for high-tech firms (fees in yuan: 100k, 100k, 700k, 200k).

    The third stops at the fee kind's 300,000.00 annual cap under the live rule and under a draft alike.
    """
    from claims.models import Application

    rule = db.exec(select(RuleVersion).where(RuleVersion.program_code == "sz-tech-fee")).one()
    bank = db.exec(select(Institution).where(Institution.code == "BANK_A")).one()
    ids = {}
    for n, fee in enumerate((100_000, 100_000, 700_000, 200_000)):
        firm = Enterprise(uscc=f"SIMFEE{n:012d}", name=f"模拟高企{n}")
        db.add(firm)
        db.flush()
        db.add(ListMembership(enterprise_id=firm.id, category="high_tech", valid_from=date(2022, 1, 1)))
        loan = Loan(institution_id=bank.id, program_code="sz-tech-fee", rule_version_id=rule.id, enterprise_id=firm.id,
                    contract_no=f"SIMFEE-{n}", principal_fen=5_000_000 * YUAN, disbursed_on=date(2024, 3, 1),
                    maturity_on=date(2025, 2, 28), annual_rate="0.0435", security_type="guaranteed")
        db.add(loan)
        db.flush()
        application = Application(institution_id=bank.id, program_code="sz-tech-fee", rule_version_id=rule.id,
                                  kind="fee_subsidy", enterprise_id=firm.id, loan_id=loan.id, fee_kind="guarantee_fee",
                                  status="approved", period_start=date(2024, 1, 1), period_end=date(2024, 3, 31),
                                  applied_on=date(2024, 4, 10), basis_fen=fee * YUAN, budget_year=2024,
                                  submitted_at=datetime(2024, 4, 10, 9, 0))
        db.add(application)
        db.flush()
        ids[f"a{n + 1}"] = application.id
        db.add(Decision(subject_type="application", subject_id=application.id, actor="approver1", role="approver",
                        action="approve", from_state="second_review", to_state="approved",
                        at=datetime(2024, 4, 20 + n, 10, 0)))
    db.commit()
    return ids
