"""Payment runs: payee accounts, batches of approved items exported in the treasury's layout, results per line.

A batch takes approved claims of one program (each item in at most one pending line); the export
(XLSX or CSV: payee, bank, account, amount, 大写, purpose, reference) is what the treasury system
imports. Results come back per line: paid with the voucher number and date moves the item through
the review engine's normal `pay` transition (one ledger posting, carrying the voucher); failed with a
reason leaves the item approved, free for the next batch. Partial results are fine; importing the
same result twice changes nothing.
"""
from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, NotFound, Unprocessable
from claims.models import Claim, Institution, LedgerPosting, PayeeAccount, PaymentBatch, PaymentLine
from claims.services.claims import transition_claim
from claims.tabular import neutralise_cell
from workflows.money import format_fen, rmb_upper

log = logging.getLogger(__name__)
ACCOUNT_NO = re.compile(r"^[0-9]{8,32}$")
EXPORT_COLUMNS = ("序号", "收款人户名", "收款人开户行", "收款人账号", "金额（元）", "金额大写", "用途", "业务参考号")


def mask_account(account_no: str) -> str:
    """An account number as logs and audit events show it: the last four digits only."""
    return f"****{account_no[-4:]}" if len(account_no) > 4 else "****"


def set_payee_account(session: Session, *, principal: Principal, institution_id: int, account_name: str,
                      bank_name: str, account_no: str) -> PayeeAccount:
    """Record the institution's payee account (admin); the number is digits only, 8 to 32 of them."""
    principal.require("admin")
    account_no = account_no.replace(" ", "")
    errors = {}
    if not ACCOUNT_NO.fullmatch(account_no):
        errors["account_no"] = ["8 to 32 digits (spaces allowed between groups)"]
    for name, value in (("account_name", account_name), ("bank_name", bank_name)):
        if not value.strip():
            errors[name] = ["required"]
    if errors:
        raise Unprocessable("The payee account is not valid.", code="payee_account_invalid", errors=errors)
    begin_write(session)
    if session.get(Institution, institution_id) is None:
        raise NotFound(f"No institution {institution_id}.")
    row = session.exec(select(PayeeAccount).where(PayeeAccount.institution_id == institution_id)).first()
    row = row or PayeeAccount(institution_id=institution_id, account_name="", bank_name="", account_no="")
    row.account_name, row.bank_name, row.account_no = account_name.strip(), bank_name.strip(), account_no
    row.updated_by = principal.actor
    session.add(row)
    session.flush()
    record_event(session, actor=principal.actor, entity="payee_account", entity_id=institution_id, action="set",
                 data={"account_name": row.account_name, "bank_name": row.bank_name,
                       "account_no": mask_account(account_no)})
    log.info("payee account of institution %s set to %s at %s", institution_id, mask_account(account_no),
             row.bank_name)
    session.commit()
    return row


def build_batch(session: Session, *, principal: Principal, program_code: str, claim_ids: list[int],
                purpose: str) -> PaymentBatch:
    """A batch of approved claims of one program, each with its institution's payee account (payer)."""
    principal.require("payer")
    if not claim_ids or len(set(claim_ids)) != len(claim_ids):
        raise Unprocessable("List each approved claim once.", code="batch_items_invalid",
                            errors={"claim_ids": ["one or more distinct claim ids"]})
    begin_write(session)
    claims = {c.id: c for c in session.exec(select(Claim).where(Claim.id.in_(claim_ids)).with_for_update())}
    pending = set(session.exec(select(PaymentLine.subject_id).where(
        PaymentLine.subject_type == "claim", PaymentLine.subject_id.in_(claim_ids), PaymentLine.status == "pending")))
    payees = {p.institution_id: p for p in session.exec(select(PayeeAccount))}
    refused = {}
    for claim_id in claim_ids:
        claim = claims.get(claim_id)
        if claim is None or claim.program_code != program_code:
            refused[str(claim_id)] = [f"no claim {claim_id} in program {program_code}"]
        elif claim.status != "approved":
            refused[str(claim_id)] = [f"claim is {claim.status}, not approved"]
        elif claim_id in pending:
            refused[str(claim_id)] = ["already in a batch awaiting its result"]
        elif claim.institution_id not in payees:
            refused[str(claim_id)] = ["the institution has no payee account on record"]
    if refused:
        raise Unprocessable("Some items cannot be paid in a batch.", code="batch_items_refused", errors=refused)
    batch = PaymentBatch(program_code=program_code, purpose=purpose.strip() or f"{program_code}代偿补偿款",
                         total_fen=sum(claims[i].approved_fen for i in claim_ids), created_by=principal.actor)
    session.add(batch)
    session.flush()
    for seq, claim_id in enumerate(claim_ids, start=1):
        claim, payee = claims[claim_id], payees[claims[claim_id].institution_id]
        session.add(PaymentLine(batch_id=batch.id, subject_type="claim", subject_id=claim_id,
                                institution_id=claim.institution_id, reference=f"PB{batch.id:06d}-{seq:04d}",
                                amount_fen=claim.approved_fen, account_name=payee.account_name,
                                bank_name=payee.bank_name, account_no=payee.account_no))
    record_event(session, actor=principal.actor, entity="payment_batch", entity_id=batch.id, action="build",
                 data={"program": program_code, "lines": len(claim_ids), "total_fen": batch.total_fen})
    session.commit()
    return batch


def batch_lines(session: Session, *, principal: Principal, batch_id: int) -> tuple[PaymentBatch, list[PaymentLine]]:
    """The batch and its lines in order (payer, admin, auditor)."""
    principal.require("payer", "admin", "auditor")
    batch = session.get(PaymentBatch, batch_id)
    if batch is None:
        raise NotFound(f"No payment batch {batch_id}.")
    lines = list(session.exec(select(PaymentLine).where(PaymentLine.batch_id == batch_id).order_by(PaymentLine.id)))
    return batch, lines


def treasury_rows(batch: PaymentBatch, lines: list[PaymentLine]) -> list[list[str]]:
    """The treasury layout: a heading row, one row per pending line, and the total with its 大写."""
    rows = [list(EXPORT_COLUMNS)]
    due = [line for line in lines if line.status == "pending"]
    for seq, line in enumerate(due, start=1):
        rows.append([str(seq), line.account_name, line.bank_name, line.account_no, format_fen(line.amount_fen),
                     rmb_upper(line.amount_fen), batch.purpose, line.reference])
    total = sum(line.amount_fen for line in due)
    rows.append(["合计", f"{len(due)}笔", "", "", format_fen(total), rmb_upper(total), "", f"PB{batch.id:06d}"])
    return rows


def export_csv(batch: PaymentBatch, lines: list[PaymentLine]) -> bytes:
    """The treasury file as CSV (UTF-8 with BOM, which the treasury's spreadsheet tools expect)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in treasury_rows(batch, lines):
        writer.writerow([neutralise_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_xlsx(batch: PaymentBatch, lines: list[PaymentLine]) -> bytes:
    """The treasury file as XLSX: texts as text (account numbers keep their digits), amounts as exact strings."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"PB{batch.id:06d}"
    for row in treasury_rows(batch, lines):
        sheet.append([neutralise_cell(cell) for cell in row])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class LineResult:
    """What the treasury reported for one line."""

    reference: str
    paid: bool
    voucher_no: str = ""
    paid_on: date | None = None
    reason: str = ""


def record_results(session: Session, *, principal: Principal, registry, batch_id: int,
                   results: list[LineResult]) -> dict[str, int]:
    """Apply the treasury's results line by line; each paid line is one `pay` transition (one ledger posting)."""
    principal.require("payer")
    batch, lines = batch_lines(session, principal=principal, batch_id=batch_id)
    by_reference = {line.reference: line for line in lines}
    unknown = [r.reference for r in results if r.reference not in by_reference]
    invalid = [r.reference for r in results if r.paid and (not r.voucher_no or r.paid_on is None)] + \
        [r.reference for r in results if not r.paid and not r.reason.strip()]
    if unknown or invalid:
        raise Unprocessable("Some results cannot be applied.", code="payment_results_invalid",
                            errors={**{ref: ["no such line in this batch"] for ref in unknown},
                                    **{ref: ["paid needs voucher_no and paid_on; failed needs a reason"]
                                       for ref in invalid}})
    counts = {"paid": 0, "failed": 0, "unchanged": 0}
    for result in results:
        counts[_apply(session, principal, registry, batch, by_reference[result.reference], result)] += 1
    begin_write(session)
    batch = session.get(PaymentBatch, batch_id)
    if not session.exec(select(PaymentLine.id).where(PaymentLine.batch_id == batch_id,
                                                     PaymentLine.status == "pending")).first():
        batch.status = "settled"
        session.add(batch)
    session.commit()
    return counts


def _apply(session: Session, principal: Principal, registry, batch: PaymentBatch, line: PaymentLine,
           result: LineResult) -> str:
    if line.status != "pending":
        same = (line.status == "paid") == result.paid and (not result.paid or line.voucher_no == result.voucher_no)
        if same:
            return "unchanged"
        raise Conflict(f"Line {line.reference} already has the result {line.status}.", code="payment_result_final",
                       extra={"reference": line.reference, "status": line.status})
    if result.paid:
        claim = session.get(Claim, line.subject_id)
        if claim.status != "paid":
            # The engine's one pay transition: ledger posting with the voucher, decision and audit, committed.
            transition_claim(session, principal=principal, registry=registry, claim_id=line.subject_id,
                             action="pay", expected_version=claim.version, today=result.paid_on,
                             reason=f"支付批次PB{batch.id:06d}", voucher_no=result.voucher_no)
        elif not _paid_with(session, line.subject_id, result.voucher_no):
            raise Conflict(f"Claim {line.subject_id} was paid outside batch line {line.reference}.",
                           code="paid_elsewhere", extra={"reference": line.reference})
    begin_write(session)
    line = session.get(PaymentLine, line.id)
    if result.paid:
        line.status, line.voucher_no, line.paid_on = "paid", result.voucher_no, result.paid_on
    else:
        line.status, line.failure_reason = "failed", result.reason.strip()
    session.add(line)
    record_event(session, actor=principal.actor, entity="payment_line", entity_id=line.id, action=line.status,
                 data={"reference": line.reference, "subject": f"{line.subject_type}:{line.subject_id}",
                       "amount_fen": line.amount_fen, "voucher_no": line.voucher_no,
                       "reason": line.failure_reason, "account_no": mask_account(line.account_no)})
    session.commit()
    return line.status


def _paid_with(session: Session, claim_id: int, voucher_no: str) -> bool:
    # A crash between the pay transition and marking the line leaves the claim paid with this voucher: finish it.
    return session.exec(select(LedgerPosting.id).where(
        LedgerPosting.kind == "pay", LedgerPosting.subject_type == "claim", LedgerPosting.subject_id == claim_id,
        LedgerPosting.voucher_no == voucher_no)).first() is not None
