"""Bulk loan registration from CSV or XLSX: parse each row, check it, write the good ones in batches, report all."""
from __future__ import annotations

import functools
import gc
import hashlib
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from sqlmodel import Session

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Unprocessable
from claims.services.loan_registrar import LoanInput, Registrar
from claims.services.loan_writer import LoanWriter
from claims.services.loans import require_institution
from claims.storage import Store, bulk_report_key, staged
from claims.tabular import TabularError, read_table, write_csv
from workflows.identifiers import IdentifierError, validate_resident_id, validate_uscc
from workflows.money import AmountError, parse_amount, to_fen

BULK_COLUMNS = {
    "program": {"program", "项目", "项目代码"},
    "contract_no": {"contract_no", "合同编号"},
    "enterprise_uscc": {"enterprise_uscc", "uscc", "统一社会信用代码"},
    "resident_id": {"resident_id", "身份证号"},
    "principal": {"principal", "贷款金额", "本金"},
    "disbursed_on": {"disbursed_on", "放款日"},
    "maturity_on": {"maturity_on", "到期日"},
    "annual_rate": {"annual_rate", "年利率"},
    "security_type": {"security_type", "担保方式"},
    "unsecured_share": {"unsecured_share", "信用部分占比"},
    "first_loan": {"first_loan", "首贷"},
    "policy_tool": {"policy_tool", "央行政策工具"},
    "guarantor_code": {"guarantor_code", "担保机构"},
    "guarantee_ratio": {"guarantee_ratio", "担保比例"},
}
BULK_OPTIONAL = ("enterprise_uscc", "resident_id", "unsecured_share", "first_loan", "policy_tool", "guarantor_code",
                 "guarantee_ratio", "annual_rate")
_DECIMAL_TEXT_MAX = 16  # the loan table's annual_rate, unsecured_share and guarantee_ratio columns
_TRUE = {"1", "true", "yes", "y", "是", "t"}
_FALSE = {"", "0", "false", "no", "n", "否", "f"}


@dataclass
class BulkReport:
    """The outcome of a bulk registration: counts, rejected rows with reasons, and the report's id."""

    accepted: int = 0
    rejected: int = 0
    rows: list[dict] = field(default_factory=list)
    report_id: str = ""
    sha256: str = ""


def _flag(value: str, key: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{key} must be true/false (是/否), got {value!r}")


def _decimal(value: str, key: str, default: Decimal) -> Decimal:
    if not value:
        return default
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{key} must be a decimal such as 0.0435, got {value!r}") from None
    if not result.is_finite() or not Decimal(0) <= result <= Decimal(1):
        raise ValueError(f"{key} must be between 0 and 1, got {value!r}")
    if len(str(result)) > _DECIMAL_TEXT_MAX:
        # Stored as text of at most 16 characters; a longer one would fail the whole file at the insert.
        raise ValueError(f"{key} has too many digits (at most {_DECIMAL_TEXT_MAX} characters), got {value!r}")
    return result


# Bulk files name the same firms again and again; the check character costs more than the rest of the row.
_valid_uscc = functools.lru_cache(maxsize=65_536)(validate_uscc)
# Rates and shares repeat across a file too; Decimals are immutable, and failures are not cached.
_rate = functools.lru_cache(maxsize=4_096)(lambda v: _decimal(v, "annual_rate", Decimal(0)))
_share = functools.lru_cache(maxsize=4_096)(lambda v: _decimal(v, "unsecured_share", Decimal(1)))
_ratio = functools.lru_cache(maxsize=4_096)(lambda v: _decimal(v, "guarantee_ratio", None))
# workflows.money's plain-amount form: digits, optionally a point and one or two decimals.
_PLAIN_AMOUNT = re.compile(r"([0-9]{1,15})(?:\.([0-9]{1,2}))?\Z")


def _principal_fen(value: str) -> int:
    """The amount in fen; a plain amount is read with integers, anything else goes through parse_amount."""
    match = _PLAIN_AMOUNT.match(value)
    if match is None:
        # Signs, three decimals, leading zeros past 15 digits, junk: parse_amount decides and explains.
        return to_fen(parse_amount(value))
    whole, cents = match.groups()
    return int(whole) * 100 + (int(cents) * (10 if len(cents) == 1 else 1) if cents else 0)


# (column, converter, value of an empty cell); _REQUIRED means an empty cell goes to the converter to fail.
_REQUIRED = object()
_FIELDS = (
    ("principal", _principal_fen, _REQUIRED),
    ("disbursed_on", date.fromisoformat, _REQUIRED),
    ("maturity_on", date.fromisoformat, _REQUIRED),
    ("enterprise_uscc", _valid_uscc, None),
    ("resident_id", validate_resident_id, None),
    ("annual_rate", _rate, Decimal(0)),
    ("unsecured_share", _share, Decimal(1)),
    ("guarantee_ratio", _ratio, None),
    ("first_loan", lambda v: _flag(v, "first_loan"), False),
    ("policy_tool", lambda v: _flag(v, "policy_tool"), False),
)


def parse_row(values: dict[str, str]) -> tuple[LoanInput | None, list[dict]]:
    """Turn one bulk-file row into a LoanInput, or the reasons it cannot be read."""
    reasons: list[dict] = []
    parsed = []
    for key, convert, empty in _FIELDS:
        text = values[key]
        if not text and empty is not _REQUIRED:
            parsed.append(empty)
            continue
        try:
            parsed.append(convert(text))
        except (ValueError, AmountError, IdentifierError) as exc:
            reasons.append({"code": getattr(exc, "code", "invalid_value"), "field": key, "message": str(exc)})
            parsed.append(None)
    if not values["contract_no"]:
        reasons.append({"code": "required", "field": "contract_no", "message": "contract_no is required"})
    if reasons:
        return None, reasons
    principal, disbursed, maturity, uscc, resident, rate, share, g_ratio, first, tool = parsed
    return LoanInput(program=values["program"], contract_no=values["contract_no"][:64], principal_fen=principal,
                     disbursed_on=disbursed, maturity_on=maturity, annual_rate=rate,
                     security_type=values["security_type"] or "unsecured", unsecured_share=share, first_loan=first,
                     policy_tool=tool, enterprise_uscc=uscc, resident_id=resident,
                     guarantor_code=values["guarantor_code"] or None, guarantee_ratio=g_ratio), []


def _parsed_in_batches(rows, registrar: Registrar, size: int):
    """Parse rows a batch at a time and prefetch the firms each batch names; yield (row, item, reasons)."""
    batch = []
    for row in rows:
        batch.append((row, *parse_row(row.values)))
        if len(batch) == size:
            registrar.prefetch([item for _, item, _ in batch if item is not None])
            yield from batch
            batch = []
    registrar.prefetch([item for _, item, _ in batch if item is not None])
    yield from batch


@contextmanager
def _startup_heap_out_of_gc():
    """Leave the objects that exist before a bulk import out of the cyclic collector's passes while it runs.

    A 100 000-row file allocates and drops millions of containers, which sets off a few full
    collections; each walked the whole application (modules, mappers, schemas) for about 70 ms,
    a sixth of the import. Objects made during the import are collected as usual. A server that
    froze its start-up heap itself (gc.freeze after loading the app) is left as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def bulk_register(session: Session, *, principal: Principal, registry, stream: BinaryIO, filename: str, today: date,
                  store: Store, max_rows: int, batch_size: int = 2000) -> BulkReport:
    """Register loans from a CSV or XLSX file row by row; good rows land, bad rows are reported with reasons.

    The accepted rows are written in batches inside one transaction, so a failure mid-file leaves none
    of them; the per-row report is also written as CSV for download.
    """
    with _startup_heap_out_of_gc():
        return _bulk_register(session, principal=principal, registry=registry, stream=stream, filename=filename,
                              today=today, store=store, max_rows=max_rows, batch_size=batch_size)


def _bulk_register(session: Session, *, principal: Principal, registry, stream: BinaryIO, filename: str, today: date,
                   store: Store, max_rows: int, batch_size: int) -> BulkReport:
    require_institution(principal)
    begin_write(session)
    registrar = Registrar(session, registry, principal, today)
    report = BulkReport(report_id=uuid.uuid4().hex)
    digest = hashlib.sha256()
    batch: list[tuple] = []
    writer = LoanWriter(session)
    with staged(store) as tmp_path:
        with open(tmp_path, "w", encoding="utf-8-sig", newline="") as out:
            writer_rows: list[list[str]] = [["row", "contract_no", "status", "reason_codes", "reasons"]]
            digested: list[str] = []
            try:
                rows = read_table(stream, filename, columns=BULK_COLUMNS, optional=BULK_OPTIONAL, max_rows=max_rows)
                for row, item, reasons in _parsed_in_batches(rows, registrar, batch_size):
                    values = None
                    if item is not None:
                        values, reasons = registrar.check(item)
                    digested.append(f"{row.number}:{row.values.get('contract_no')}\n")
                    if reasons:
                        report.rejected += 1
                        report.rows.append({"row": row.number, "contract_no": row.values.get("contract_no", ""),
                                            "status": "rejected", "reasons": reasons})
                        writer_rows.append([str(row.number), row.values.get("contract_no", ""), "rejected",
                                            " ".join(r["code"] for r in reasons),
                                            "; ".join(r["message"] for r in reasons)])
                    else:
                        report.accepted += 1
                        batch.append(values)
                        writer_rows.append([str(row.number), item.contract_no, "accepted", "", ""])
                    if len(batch) >= batch_size:
                        writer.write(batch)
                        batch.clear()
                    if len(writer_rows) >= 5000:
                        write_csv(writer_rows, out)
                        writer_rows.clear()
                        # The digest of the joined lines is the digest of the lines fed one by one.
                        digest.update("".join(digested).encode())
                        digested.clear()
                writer.write(batch)
                write_csv(writer_rows, out)
                digest.update("".join(digested).encode())
            except TabularError as exc:
                session.rollback()
                raise Unprocessable(exc.detail, code=exc.code, extra={"row": exc.row} if exc.row else None) from exc
        report.sha256 = digest.hexdigest()
        record_event(session, actor=principal.actor, entity="loan_bulk", entity_id=report.report_id,
                     action="registered",
                     data={"file": filename[:100], "accepted": report.accepted, "rejected": report.rejected,
                           "rows_digest": report.sha256})
        session.commit()
        # Stored after the commit: a report is never offered for rows that did not land.
        store.put_file(bulk_report_key(principal.institution_id, report.report_id), tmp_path)
    return report
