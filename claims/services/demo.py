"""Demo activity for `claims seed --demo`: loans and claims in every review state, made through the use cases.

Everything goes through the same services a bank and the bureau's staff call, with past business
dates, so the ledger, decisions and audit chain of the demo are as real as production's.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from claims.auth import Principal
from claims.errors import Problem
from claims.models import Enterprise, Institution, ListMembership, Loan, User
from claims.services import claims as claim_service
from claims.services import documents as document_service
from claims.services import evidence
from claims.services import loans as loan_service
from claims.services import recoveries
from claims.services import programs as program_service
from claims.storage import store_for

DEMO_PROGRAM = "sz-sme-pool"
DEMO_PREFIX = "DEMO-"
# (bank, final state of the claim); one loan and claim per line, each to a different firm.
SCENARIOS = [
    ("BANK_A", "paid"), ("BANK_A", "approved"), ("BANK_A", "second_review"), ("BANK_A", "first_review"),
    ("BANK_A", "returned"), ("BANK_A", "submitted"), ("BANK_A", "draft"), ("BANK_A", "none"),
    ("BANK_B", "paid"), ("BANK_B", "rejected"), ("BANK_B", "withdrawn"), ("BANK_B", "submitted"),
    ("BANK_B", "deferred"), ("BANK_B", "none"),
]
# The path to each state, as (actor, action, extra) steps after filing.
PATHS = {
    "draft": [],
    "submitted": [("bank", "submit", {})],
    "first_review": [("bank", "submit", {}), ("reviewer", "start_review", {})],
    "returned": [("bank", "submit", {}), ("reviewer", "start_review", {}),
                 ("reviewer", "return", {"reason": "尽职免责声明未加盖公章，请补正后重新提交",
                                         "documents_requested": [{"kind": "no_negligence",
                                                                  "note": "加盖公章的尽职免责声明"}]})],
    "second_review": [("bank", "submit", {}), ("reviewer", "start_review", {}), ("reviewer", "pass", {})],
    "approved": [("bank", "submit", {}), ("reviewer", "start_review", {}), ("reviewer", "pass", {}),
                 ("approver", "approve", {})],
    "paid": [("bank", "submit", {}), ("reviewer", "start_review", {}), ("reviewer", "pass", {}),
             ("approver", "approve", {}), ("payer", "pay", {})],
    "rejected": [("bank", "submit", {}), ("reviewer", "start_review", {}),
                 ("reviewer", "reject", {"reason": "贷款发放前已出现逾期，不符合补偿条件"})],
    "withdrawn": [("bank", "submit", {}), ("bank", "withdraw", {})],
    "deferred": [("bank", "submit", {})],
}


def _blank_pdf() -> bytes:
    # Written by pypdf, so it parses as uploads are now checked (a hand-written PDF without an xref does not).
    from pypdf import PdfWriter

    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=595, height=842)
    writer.write(out)
    return out.getvalue()


# A one-page PDF standing in for each scanned document the demo's banks attach.
DEMO_PDF = _blank_pdf()


def attach_required_documents(session: Session, *, principal: Principal, registry, subject_type: str, subject,
                              settings) -> int:
    """Attach a stand-in PDF for every document the subject's checklist still misses; returns how many."""
    rule = program_service.loaded_rule(session, registry, rule_version_id=subject.rule_version_id)
    attached = 0
    for item in evidence.checklist_of(session, subject_type=subject_type, subject=subject, rule=rule).missing:
        for n in range(item.missing):
            document_service.attach_document(
                session, principal=principal, owner_type=subject_type, owner_id=subject.id, kind=item.kinds[0],
                filename=f"{item.kinds[0]}-{n + 1}.pdf", stream=io.BytesIO(DEMO_PDF),
                store=store_for(settings), max_bytes=settings.max_upload_bytes,
                allowed_types=settings.document_types)
            attached += 1
    return attached


@dataclass
class DemoReport:
    """What the demo run created, and anything it had to skip with the reason."""

    loans: int = 0
    claims: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _staff(session: Session, username: str) -> Principal:
    user = session.exec(select(User).where(User.username == username)).one()
    return Principal(kind="staff", name=user.display_name, roles=user.role_set, user_id=user.id)


def _eligible_firms(session: Session) -> list[Enterprise]:
    # Firms outside real estate (industry K), with listed ones first so the raised ratio shows.
    listed = set(session.exec(select(ListMembership.enterprise_id)))
    firms = [e for e in session.exec(select(Enterprise).order_by(Enterprise.id))
             if not (e.industry or "").upper().startswith("K") and e.uscc.startswith("9144")]
    return sorted(firms, key=lambda e: (e.id not in listed, e.id))


def load_demo_activity(session: Session, registry, *, today: date, settings) -> DemoReport:
    """Register demo loans and take their claims to every review state (skipped when already there)."""
    report = DemoReport()
    if session.exec(select(Loan.id).where(Loan.contract_no.startswith(DEMO_PREFIX))).first():
        return report
    banks = {i.code: i for i in session.exec(select(Institution).where(Institution.kind == "bank"))}
    actors = {"reviewer": _staff(session, "reviewer1"), "approver": _staff(session, "approver1"),
              "payer": _staff(session, "payer1"), "admin": _staff(session, "admin")}
    firms = _eligible_firms(session)
    registered_on = today - timedelta(days=240)
    claim_day = today - timedelta(days=10)
    for index, (bank_code, state) in enumerate(SCENARIOS):
        bank = banks[bank_code]
        principal = Principal(kind="institution", name=bank.name, roles=frozenset({"institution"}),
                              institution_id=bank.id)
        if state == "deferred":
            program_service.set_admission(session, principal=actors["admin"], institution_id=bank.id,
                                          program_code=DEMO_PROGRAM, status="claims_deferred",
                                          reason="演示：合作银行代偿率超过阈值，暂缓受理新代偿申请")
        disbursed = registered_on - timedelta(days=index % 20)
        item = loan_service.LoanInput(
            program=DEMO_PROGRAM, contract_no=f"{DEMO_PREFIX}{bank_code}-{index + 1:03d}",
            principal_fen=(1_000_000 + 250_000 * (index % 5)) * 100, disbursed_on=disbursed,
            maturity_on=disbursed + timedelta(days=364), annual_rate=Decimal("0.0385"),
            security_type="unsecured", first_loan=index % 3 == 0, enterprise_uscc=firms[index].uscc)
        try:
            loan = loan_service.register_loan(session, principal=principal, registry=registry, item=item,
                                              today=disbursed + timedelta(days=7))
        except Problem as exc:
            report.skipped.append(f"{item.contract_no}: {exc.detail} {getattr(exc, 'extra', '')}")
            continue
        report.loans += 1
        if state == "none":
            continue
        default_on = disbursed + timedelta(days=45)
        loan_service.report_loan_status(session, principal=principal, loan_id=loan.id, status="non_performing",
                                        as_of=claim_day, days_overdue=(claim_day - default_on).days)
        claim = claim_service.file_claim(
            session, principal=principal, registry=registry, loan_id=loan.id, today=claim_day,
            data=claim_service.ClaimInput(default_on=default_on, outstanding_principal_fen=loan.principal_fen * 3 // 4,
                                          days_overdue=(claim_day - default_on).days, classification="substandard",
                                          note="演示代偿申请"))
        if PATHS[state]:
            attach_required_documents(session, principal=principal, registry=registry, subject_type="claim",
                                      subject=claim, settings=settings)
        for actor, action, extra in PATHS[state]:
            who = principal if actor == "bank" else actors[actor]
            claim = claim_service.transition_claim(session, principal=who, registry=registry, claim_id=claim.id,
                                                   action=action, expected_version=claim.version, today=claim_day,
                                                   **extra)
        if state == "paid" and bank_code == "BANK_A":
            recoveries.record_recovery(session, principal=principal, registry=registry, claim_id=claim.id,
                                          amount_fen=20_000_000, costs_fen=1_500_000, recovered_on=claim_day,
                                          today=claim_day)
        report.claims[claim.status] = report.claims.get(claim.status, 0) + 1
    return report
