"""Money coming back and budgets changing: recovery remittances received, maker-checker budget adjustments."""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from claims import ledger
from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Forbidden, NotFound, Unprocessable
from claims.models import BudgetAdjustment, Claim, Program, Recovery, RecoveryReceipt
from claims.models.base import utcnow
from workflows.money import format_fen


def _outstanding(session: Session, recovery: Recovery) -> int:
    received = sum(r.amount_fen for r in session.exec(select(RecoveryReceipt).where(
        RecoveryReceipt.recovery_id == recovery.id, RecoveryReceipt.status == "received")))
    return recovery.returned_fen - received


def report_remittance(session: Session, *, principal: Principal, recovery_id: int, amount_fen: int,
                      remitted_on: date, bank_reference: str) -> RecoveryReceipt:
    """The institution reports that it remitted (part of) a recovery share owed back to the program."""
    if not principal.is_institution:
        raise Forbidden("Only the institution that owes the share reports its remittance.", code="institution_only")
    begin_write(session)
    recovery = session.get(Recovery, recovery_id)
    claim = session.get(Claim, recovery.claim_id) if recovery else None
    if claim is None or claim.institution_id != principal.institution_id:
        raise NotFound(f"No recovery {recovery_id}.")
    left = _outstanding(session, recovery)
    if not 0 < amount_fen <= left:
        raise Unprocessable(f"Recovery {recovery_id} has {format_fen(left)} outstanding; {format_fen(amount_fen)} "
                            f"cannot be remitted against it.", code="remittance_exceeds_receivable",
                            errors={"amount": [f"between 0.01 and {format_fen(left)}"]})
    receipt = RecoveryReceipt(recovery_id=recovery_id, amount_fen=amount_fen, remitted_on=remitted_on,
                              bank_reference=bank_reference.strip())
    session.add(receipt)
    session.flush()
    record_event(session, actor=principal.actor, entity="recovery_receipt", entity_id=receipt.id, action="report",
                 data={"recovery_id": recovery_id, "amount_fen": amount_fen, "bank_reference": receipt.bank_reference})
    session.commit()
    return receipt


def receive_remittance(session: Session, *, principal: Principal, receipt_id: int, received_on: date,
                       voucher_no: str) -> RecoveryReceipt:
    """The bureau records a reported remittance received (date, voucher): the receivable clears in the ledger."""
    principal.require("payer")
    if not voucher_no.strip():
        raise Unprocessable("A receipt needs the voucher number.", code="voucher_required",
                            errors={"voucher_no": ["required"]})
    begin_write(session)
    receipt = session.exec(select(RecoveryReceipt).where(RecoveryReceipt.id == receipt_id).with_for_update()).first()
    if receipt is None:
        raise NotFound(f"No remittance {receipt_id}.")
    if receipt.status != "reported":
        raise Conflict(f"Remittance {receipt_id} is already {receipt.status}.", code="receipt_final")
    recovery = session.get(Recovery, receipt.recovery_id)
    claim = session.get(Claim, recovery.claim_id)
    if receipt.amount_fen > _outstanding(session, recovery):
        raise Conflict("The remittance is more than the receivable still outstanding.", code="receivable_cleared")
    receipt.status, receipt.voucher_no, receipt.received_on = "received", voucher_no.strip(), received_on
    receipt.received_by = principal.actor
    session.add(receipt)
    ledger.receive_recovery(session, program_code=claim.program_code, year=claim.budget_year,
                            institution_id=claim.institution_id, amount_fen=receipt.amount_fen, subject_id=receipt.id,
                            voucher_no=receipt.voucher_no)
    record_event(session, actor=principal.actor, entity="recovery_receipt", entity_id=receipt.id, action="receive",
                 data={"recovery_id": recovery.id, "amount_fen": receipt.amount_fen, "voucher_no": receipt.voucher_no})
    session.commit()
    return receipt


def propose_adjustment(session: Session, *, principal: Principal, program_code: str, year: int, amount_fen: int,
                       reason: str) -> BudgetAdjustment:
    """An admin proposes raising (> 0) or cutting (< 0) a program-year budget; another admin decides."""
    principal.require("admin")
    if amount_fen == 0 or not reason.strip():
        raise Unprocessable("An adjustment needs a non-zero amount and a reason.", code="adjustment_invalid",
                            errors={"amount": ["not 0.00"]} if amount_fen == 0 else {"reason": ["required"]})
    begin_write(session)
    if session.get(Program, program_code) is None:
        raise NotFound(f"No program {program_code}.")
    row = BudgetAdjustment(program_code=program_code, year=year, amount_fen=amount_fen, reason=reason.strip(),
                           proposed_by=principal.actor, proposed_user_id=principal.user_id)
    session.add(row)
    session.flush()
    record_event(session, actor=principal.actor, entity="budget_adjustment", entity_id=row.id, action="propose",
                 data={"program": program_code, "year": year, "amount_fen": amount_fen, "reason": row.reason})
    session.commit()
    return row


def decide_adjustment(session: Session, *, principal: Principal, adjustment_id: int, approve: bool,
                      reason: str = "") -> BudgetAdjustment:
    """A second admin approves (the budget changes in the ledger) or rejects a proposed adjustment."""
    principal.require("admin")
    begin_write(session)
    row = session.exec(select(BudgetAdjustment).where(BudgetAdjustment.id == adjustment_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"No budget adjustment {adjustment_id}.")
    if row.status != "proposed":
        raise Conflict(f"Budget adjustment {adjustment_id} is already {row.status}.", code="adjustment_decided")
    if row.proposed_user_id == principal.user_id:
        raise Forbidden("The admin who proposed an adjustment cannot also decide it.", code="separation_of_duties")
    if approve:
        kind = "追加" if row.amount_fen > 0 else "调减"
        ledger.adjust_budget(session, program_code=row.program_code, year=row.year, amount_fen=row.amount_fen,
                             subject_id=row.id, memo=f"{row.year}年度预算{kind}：{row.reason}")
    row.status, row.decided_by, row.decision_reason = ("approved" if approve else "rejected"), principal.actor, reason
    row.decided_at = utcnow()
    session.add(row)
    record_event(session, actor=principal.actor, entity="budget_adjustment", entity_id=row.id,
                 action="approve" if approve else "reject", data={"amount_fen": row.amount_fen, "reason": reason})
    session.commit()
    return row


def adjustments(session: Session, *, principal: Principal, program_code: str) -> list[BudgetAdjustment]:
    """A program's budget adjustments, newest first (staff)."""
    principal.require("admin", "approver", "payer", "auditor")
    return list(session.exec(select(BudgetAdjustment).where(BudgetAdjustment.program_code == program_code)
                             .order_by(BudgetAdjustment.id.desc())))
