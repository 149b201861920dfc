"""Use cases for loans: registration (one or in bulk), listing, and status reports from the bank."""
from __future__ import annotations

import functools
import gc
import hashlib
import json
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Forbidden, NotFound, Unprocessable
from claims.models import Enterprise, Individual, Institution, Loan
from claims.models.base import utcnow
from claims.paging import Page, PageRequest, fetch_page
from claims.services import programs as program_service
from claims.services.facts import enterprise_facts, enterprise_facts_many
from claims.tabular import TabularError, read_table, write_csv
from workflows import eligibility
from workflows.facts import SECURITY_TYPES, EnterpriseFacts, LoanFacts
from workflows.identifiers import IdentifierError, validate_resident_id, validate_uscc
from workflows.money import AmountError, parse_amount, to_fen
from workflows.rules import NoRuleInForce, UnknownProgram

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


class LoanRejected(Unprocessable):
    """The loan does not meet the program's registration rules; every failing reason is listed."""

    code, title = "loan_ineligible", "Loan not eligible"


@dataclass
class LoanInput:
    """A loan as the bank describes it, validated for form but not yet against the program."""

    program: str
    contract_no: str
    principal_fen: int
    disbursed_on: date
    maturity_on: date
    annual_rate: Decimal = Decimal("0")
    security_type: str = "unsecured"
    unsecured_share: Decimal = Decimal(1)
    first_loan: bool = False
    policy_tool: bool = False
    enterprise_uscc: str | None = None
    resident_id: str | None = None
    guarantor_code: str | None = None
    guarantee_ratio: Decimal | None = None
    attributes: dict = field(default_factory=dict)


# The loan table's columns that a registration fills, in the order check() returns them.
LOAN_COLUMNS = ("institution_id", "program_code", "rule_version_id", "enterprise_id", "individual_id", "guarantor_id",
                "contract_no", "principal_fen", "disbursed_on", "maturity_on", "annual_rate", "security_type",
                "unsecured_share", "guarantee_ratio", "first_loan", "policy_tool", "attributes", "status",
                "days_overdue")
# The bulk writer adds the creation time.
_INSERTED_COLUMNS = (*LOAN_COLUMNS, "created_at")


# The facts of a loan without a firm (an individual borrower, or a row about to be refused); never mutated.
_NO_FIRM = EnterpriseFacts()


class _Registrar:
    """Checks and builds loans for one institution; caches lookups so bulk files stay fast."""

    def __init__(self, session: Session, registry, principal: Principal, today: date):
        self.session, self.registry, self.principal, self.today = session, registry, principal, today
        self.enterprises: dict[str, tuple[int, EnterpriseFacts] | None] = {}
        self.individuals: dict[str, int | None] = {}
        self.guarantors: dict[str, int | None] = {}
        self.admitted: dict[str, bool] = {}
        self.rule_rows: dict[tuple[str, str], int] = {}
        self.rules: dict[tuple[str, date], object] = {}
        self.contexts: dict[tuple, eligibility.EligibilityContext] = {}
        self.contracts = set(session.exec(select(Loan.contract_no).where(
            Loan.institution_id == principal.institution_id)))
        # (enterprise_id, year) -> institutions lending to it that year, for "one bank per firm per year".
        self.lenders: dict[tuple[int, int], set[int]] = {}

    def _enterprise(self, uscc: str):
        if uscc not in self.enterprises:
            row = self.session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
            self.enterprises[uscc] = (row.id, enterprise_facts(self.session, row)) if row else None
        return self.enterprises[uscc]

    def _lenders(self, enterprise_id: int, year: int) -> set[int]:
        key = (enterprise_id, year)
        if key not in self.lenders:
            self.lenders[key] = set(self.session.exec(select(Loan.institution_id).where(
                Loan.enterprise_id == enterprise_id, Loan.disbursed_on >= date(year, 1, 1),
                Loan.disbursed_on <= date(year, 12, 31))))
        return self.lenders[key]

    def prefetch(self, items: list[LoanInput]) -> None:
        """Look up the firms a batch of rows names, with memberships and lenders, in three queries, not three per firm."""
        usccs = {i.enterprise_uscc for i in items if i.enterprise_uscc and i.enterprise_uscc not in self.enterprises}
        if not usccs:
            return
        firms = list(self.session.exec(select(Enterprise).where(Enterprise.uscc.in_(usccs))))
        facts = enterprise_facts_many(self.session, firms)
        self.enterprises.update(dict.fromkeys(usccs))
        self.enterprises.update({firm.uscc: (firm.id, facts[firm.id]) for firm in firms})
        years = {i.disbursed_on.year for i in items}
        wanted = {(firm.id, year) for firm in firms for year in years} - set(self.lenders)
        if not wanted:
            return
        for key in wanted:
            self.lenders[key] = set()
        rows = self.session.exec(select(Loan.enterprise_id, Loan.institution_id, Loan.disbursed_on).where(
            Loan.enterprise_id.in_([firm.id for firm in firms]), Loan.disbursed_on >= date(min(years), 1, 1),
            Loan.disbursed_on <= date(max(years), 12, 31)))
        for enterprise_id, institution_id, disbursed_on in rows:
            if (enterprise_id, disbursed_on.year) in wanted:
                self.lenders[(enterprise_id, disbursed_on.year)].add(institution_id)

    def check(self, item: LoanInput) -> tuple[tuple | None, list[dict]]:
        """Validate one loan against the program; return the row to insert (LOAN_COLUMNS), or the reasons it fails."""
        reasons: list[dict] = []
        if not self._is_admitted(item.program):
            return None, [{"code": "not_admitted", "field": "program",
                           "message": f"your institution is not admitted (or is suspended) in {item.program}"}]
        rule = self.rules.get((item.program, item.disbursed_on))
        if rule is None:
            try:
                rule = self.registry.rule_governing(item.program, {"disbursement": item.disbursed_on})
            except (NoRuleInForce, UnknownProgram) as exc:
                return None, [{"code": "no_rule_in_force", "field": "disbursed_on", "message": str(exc)}]
            self.rules[(item.program, item.disbursed_on)] = rule
        enterprise_id = individual_id = guarantor_id = None
        facts = _NO_FIRM
        if item.enterprise_uscc:
            found = self._enterprise(item.enterprise_uscc)
            if found is None:
                reasons.append({"code": "enterprise_unknown", "field": "enterprise_uscc",
                                "message": f"no enterprise with 统一社会信用代码 {item.enterprise_uscc}; "
                                           f"register it at POST /enterprises first"})
            else:
                enterprise_id, facts = found
        elif item.resident_id:
            individual_id = self._individual(item.resident_id)
            if individual_id is None:
                reasons.append({"code": "individual_unknown", "field": "resident_id",
                                "message": "no individual borrower with this resident ID"})
        else:
            reasons.append({"code": "borrower_required", "field": "enterprise_uscc",
                            "message": "give enterprise_uscc or resident_id"})
        if item.guarantor_code:
            guarantor_id = self._guarantor(item.guarantor_code)
            if guarantor_id is None:
                reasons.append({"code": "guarantor_unknown", "field": "guarantor_code",
                                "message": f"no guarantor {item.guarantor_code}"})
        if item.contract_no in self.contracts:
            reasons.append({"code": "duplicate_contract", "field": "contract_no",
                            "message": f"contract {item.contract_no} is already registered by your institution"})
        if item.maturity_on <= item.disbursed_on:
            reasons.append({"code": "maturity_before_disbursement", "field": "maturity_on",
                            "message": "maturity must be after disbursement"})
        if item.security_type not in SECURITY_TYPES:
            reasons.append({"code": "security_type_unknown", "field": "security_type",
                            "message": f"security_type must be one of {', '.join(sorted(SECURITY_TYPES))}"})
        if reasons:
            return None, reasons
        # Program conditions name the borrower kind "borrower" (config/programs/sz-startup-guarantee); set
        # both from the borrower actually resolved, so a client attribute cannot lift an individual's ceiling.
        kind = "individual" if individual_id else "enterprise"
        attributes = {**item.attributes, "borrower_kind": kind, "borrower": kind}
        facts_loan = LoanFacts(principal_fen=item.principal_fen, disbursed_on=item.disbursed_on,
                               maturity_on=item.maturity_on, security_type=item.security_type,
                               unsecured_share=item.unsecured_share, first_loan=item.first_loan,
                               policy_tool=item.policy_tool, attributes=attributes, enterprise=facts)
        coverage = attributes.get("other_coverage")
        context = self._context(enterprise_id, item.disbursed_on.year,
                                tuple(str(c) for c in coverage) if coverage else ())
        for reason in eligibility.check_registration(rule, facts_loan, context):
            reasons.append({"code": reason.code, "field": reason.field, "message": reason.message})
        if reasons:
            return None, reasons
        self.contracts.add(item.contract_no)
        if enterprise_id:
            self.lenders.setdefault((enterprise_id, item.disbursed_on.year), set()).add(self.principal.institution_id)
        # In LOAN_COLUMNS order; a bulk file hands these straight to the driver.
        return (self.principal.institution_id, item.program, self._rule_row(rule), enterprise_id, individual_id,
                guarantor_id, item.contract_no, item.principal_fen, item.disbursed_on, item.maturity_on,
                str(item.annual_rate), item.security_type, str(item.unsecured_share),
                None if item.guarantee_ratio is None else str(item.guarantee_ratio), item.first_loan,
                item.policy_tool, item.attributes, "registered", 0), []

    def _context(self, enterprise_id: int | None, year: int, other_coverage: tuple[str, ...]):
        lenders = self._lenders(enterprise_id, year) if enterprise_id else set()
        # A firm's lenders only ever grow within one registrar, so their count tells a stale context.
        key = (enterprise_id, year, len(lenders), other_coverage)
        context = self.contexts.get(key)
        if context is None:
            context = self.contexts[key] = eligibility.EligibilityContext(
                registered_on=self.today, institution_id=str(self.principal.institution_id),
                firm_banks_this_year=frozenset(str(i) for i in lenders), other_coverage=other_coverage)
        return context

    def _is_admitted(self, program: str) -> bool:
        if program not in self.admitted:
            admission = program_service.admission_of(self.session, institution_id=self.principal.institution_id,
                                                     program_code=program)
            # A breaker that defers claims still lets the bank register; only suspension stops it.
            self.admitted[program] = admission is not None and admission.status in ("active", "claims_deferred")
        return self.admitted[program]

    def _individual(self, resident_id: str) -> int | None:
        if resident_id not in self.individuals:
            self.individuals[resident_id] = self.session.exec(
                select(Individual.id).where(Individual.resident_id == resident_id)).first()
        return self.individuals[resident_id]

    def _guarantor(self, code: str) -> int | None:
        if code not in self.guarantors:
            self.guarantors[code] = self.session.exec(select(Institution.id).where(
                Institution.code == code, Institution.kind == "guarantor")).first()
        return self.guarantors[code]

    def _rule_row(self, rule) -> int:
        key = (rule.code, rule.version)
        if key not in self.rule_rows:
            self.rule_rows[key] = program_service.rule_version_row(self.session, rule=rule).id
        return self.rule_rows[key]


def _require_institution(principal: Principal) -> None:
    if not principal.is_institution:
        raise Forbidden("Only an institution registers loans, with its own API key.", code="institution_only")


def register_loan(session: Session, *, principal: Principal, registry, item: LoanInput, today: date) -> Loan:
    """Register one loan into a program after checking every eligibility rule."""
    _require_institution(principal)
    begin_write(session)
    registrar = _Registrar(session, registry, principal, today)
    row, reasons = registrar.check(item)
    if reasons:
        if [r["code"] for r in reasons] == ["duplicate_contract"]:
            raise Conflict(reasons[0]["message"], code="duplicate_contract", errors={"contract_no": [reasons[0]["message"]]})
        raise LoanRejected("The loan does not meet the program's registration rules.", extra={"reasons": reasons},
                           errors=_errors_by_field(reasons))
    loan = Loan(**dict(zip(LOAN_COLUMNS, row, strict=True)))
    session.add(loan)
    session.flush()
    record_event(session, actor=principal.actor, entity="loan", entity_id=loan.id, action="registered",
                 data={"program": loan.program_code, "contract_no": loan.contract_no,
                       "principal_fen": loan.principal_fen})
    session.commit()
    return loan


def _errors_by_field(reasons: list[dict]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for reason in reasons:
        errors.setdefault(reason.get("field") or "loan", []).append(f"{reason['message']} [{reason['code']}]")
    return errors


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


class _LoanWriter:
    """Writes accepted rows a batch at a time on the session's connection, inside its transaction.

    The driver's own bulk path (COPY on PostgreSQL, sqlite3 executemany) is fed values already in
    the stored form; SQLAlchemy's per-row parameter processing cost more than checking the row.
    """

    def __init__(self, session: Session):
        self.session = session
        connection = session.connection()
        self.dialect = connection.dialect.name
        self.dbapi_error = connection.dialect.loaded_dbapi.Error
        self.driver = connection.connection.driver_connection

    def write(self, rows: list[tuple]) -> None:
        """Insert the rows (as check() returns them), stamped with one creation time for the batch."""
        if not rows:
            return
        created_at = utcnow()
        if self.dialect == "postgresql":
            statement = f"COPY loan ({', '.join(_INSERTED_COLUMNS)}) FROM STDIN"
            try:
                with self.driver.cursor() as cursor, cursor.copy(statement) as copy:
                    for v in rows:
                        copy.write_row((*v[:16], _json(v[16]), *v[17:], created_at))
            except self.dbapi_error as exc:
                raise self._wrapped(statement, exc) from exc
        elif self.dialect == "sqlite":
            statement = (f"INSERT INTO loan ({', '.join(_INSERTED_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(_INSERTED_COLUMNS))})")
            # The text forms SQLAlchemy's SQLite types store: ISO dates, "YYYY-MM-DD HH:MM:SS.ffffff".
            stamp = created_at.strftime("%Y-%m-%d %H:%M:%S.%f")
            try:
                self.driver.executemany(statement, [
                    (*v[:8], v[8].isoformat(), v[9].isoformat(), *v[10:16], _json(v[16]), *v[17:], stamp)
                    for v in rows])
            except self.dbapi_error as exc:
                raise self._wrapped(statement, exc) from exc
        else:
            self.session.execute(insert(Loan.__table__),
                                 [{**dict(zip(LOAN_COLUMNS, v, strict=True)), "created_at": created_at} for v in rows])

    def _wrapped(self, statement: str, exc: Exception) -> DBAPIError:
        # The same IntegrityError / DataError / OperationalError SQLAlchemy raises, so the API answers as before.
        return DBAPIError.instance(statement, None, exc, self.dbapi_error)


def _json(value: dict) -> str:
    return "{}" if not value else json.dumps(value)


def _parsed_in_batches(rows, registrar: _Registrar, size: int):
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
                  reports_dir: Path, max_rows: int, batch_size: int = 2000) -> BulkReport:
    """Register loans from a CSV or XLSX file row by row; good rows land, bad rows are reported with reasons.

    The accepted rows are written in batches inside one transaction, so a failure mid-file leaves none
    of them; the per-row report is also written as CSV for download.
    """
    with _startup_heap_out_of_gc():
        return _bulk_register(session, principal=principal, registry=registry, stream=stream, filename=filename,
                              today=today, reports_dir=reports_dir, max_rows=max_rows, batch_size=batch_size)


def _bulk_register(session: Session, *, principal: Principal, registry, stream: BinaryIO, filename: str, today: date,
                   reports_dir: Path, max_rows: int, batch_size: int) -> BulkReport:
    _require_institution(principal)
    begin_write(session)
    registrar = _Registrar(session, registry, principal, today)
    report = BulkReport(report_id=uuid.uuid4().hex)
    digest = hashlib.sha256()
    reports_dir.mkdir(parents=True, exist_ok=True)
    report_path = reports_dir / f"loans-{principal.institution_id}-{report.report_id}.csv"
    batch: list[tuple] = []
    writer = _LoanWriter(session)
    tmp_path = report_path.with_suffix(".part")
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
                                        " ".join(r["code"] for r in reasons), "; ".join(r["message"] for r in reasons)])
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
            tmp_path.unlink(missing_ok=True)
            raise Unprocessable(exc.detail, code=exc.code, extra={"row": exc.row} if exc.row else None) from exc
    report.sha256 = digest.hexdigest()
    record_event(session, actor=principal.actor, entity="loan_bulk", entity_id=report.report_id, action="registered",
                 data={"file": filename[:100], "accepted": report.accepted, "rejected": report.rejected,
                       "rows_digest": report.sha256})
    session.commit()
    tmp_path.replace(report_path)
    return report


def bulk_report_path(*, principal: Principal, reports_dir: Path, report_id: str) -> Path:
    """The CSV report of a bulk registration, only for the institution that uploaded it."""
    _require_institution(principal)
    if not report_id.isalnum():
        raise NotFound("No such report.")
    path = reports_dir / f"loans-{principal.institution_id}-{report_id}.csv"
    if not path.exists():
        raise NotFound("No such report.")
    return path


def scoped_loans(principal: Principal):
    """The select of loans the caller may see: its own for an institution, all for staff."""
    statement = select(Loan)
    if principal.is_institution:
        statement = statement.where(Loan.institution_id == principal.institution_id)
    else:
        principal.require("reviewer", "approver", "payer", "admin", "auditor")
    return statement


def get_loan(session: Session, *, principal: Principal, loan_id: int) -> Loan:
    """One loan, or 404 when it does not exist or belongs to another institution."""
    loan = session.exec(scoped_loans(principal).where(Loan.id == loan_id)).first()
    if loan is None:
        raise NotFound(f"No loan {loan_id}.")
    return loan


def list_loans(session: Session, *, principal: Principal, page: PageRequest, program: str | None = None,
               status: str | None = None, contract_no: str | None = None, enterprise_uscc: str | None = None,
               disbursed_from: date | None = None, disbursed_to: date | None = None,
               updated_since: datetime | None = None) -> Page[Loan]:
    """Loans visible to the caller, filtered, newest first."""
    statement = scoped_loans(principal).order_by(Loan.id.desc())
    if program:
        statement = statement.where(Loan.program_code == program)
    if status:
        statement = statement.where(Loan.status == status)
    if contract_no:
        statement = statement.where(Loan.contract_no == contract_no)
    if enterprise_uscc:
        statement = statement.where(Loan.enterprise_id.in_(select(Enterprise.id).where(Enterprise.uscc == enterprise_uscc)))
    if disbursed_from:
        statement = statement.where(Loan.disbursed_on >= disbursed_from)
    if disbursed_to:
        statement = statement.where(Loan.disbursed_on <= disbursed_to)
    if updated_since is not None:
        statement = statement.where(func.coalesce(Loan.updated_at, Loan.created_at) >= updated_since)
    return fetch_page(session, statement, page)


REPORTABLE = {"current", "overdue", "non_performing", "repaid"}


def report_loan_status(session: Session, *, principal: Principal, loan_id: int, status: str, as_of: date,
                       days_overdue: int = 0) -> Loan:
    """The bank reports a loan repaid, current, overdue or non-performing."""
    _require_institution(principal)
    begin_write(session)
    loan = get_loan(session, principal=principal, loan_id=loan_id)
    if status not in REPORTABLE:
        raise Unprocessable(f"status must be one of {', '.join(sorted(REPORTABLE))}.", code="invalid_status")
    if loan.status in {"compensated", "closed", "repaid"}:
        raise Conflict(f"Loan {loan.id} is {loan.status}; its status can no longer change.", code="loan_closed")
    before = loan.status
    loan.status, loan.days_overdue, loan.status_on = status, days_overdue, as_of
    session.add(loan)
    record_event(session, actor=principal.actor, entity="loan", entity_id=loan.id, action=f"reported_{status}",
                 data={"from": before, "days_overdue": days_overdue, "as_of": as_of.isoformat()})
    session.commit()
    return loan


