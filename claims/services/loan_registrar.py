"""Checking a loan against its program before it is written: one registrar per use case, caching lookups."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from claims.auth import Principal
from claims.errors import Problem, Unprocessable
from claims.models import Enterprise, Individual, Institution, Loan
from claims.services import programs as program_service
from claims.services.facts import enterprise_facts, enterprise_facts_many
from workflows import eligibility
from workflows.facts import SECURITY_TYPES, EnterpriseFacts, LoanFacts


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


class Registrar:
    """Checks and builds loans for one institution; caches lookups so bulk files stay fast."""

    def __init__(self, session: Session, registry, principal: Principal, today: date):
        self.session, self.registry, self.principal, self.today = session, registry, principal, today
        self.enterprises: dict[str, tuple[int, EnterpriseFacts] | None] = {}
        self.individuals: dict[str, int | None] = {}
        self.guarantors: dict[str, int | None] = {}
        self.admitted: dict[str, bool] = {}
        self.rules: dict[tuple[str, date], tuple] = {}
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
        found_rule = self.rules.get((item.program, item.disbursed_on))
        if found_rule is None:
            try:
                found_rule = self._governing(item.program, item.disbursed_on)
            except Problem as exc:
                return None, [{"code": exc.code, "field": "disbursed_on" if "disbursement" in exc.errors else "program",
                               "message": exc.detail}]
            self.rules[(item.program, item.disbursed_on)] = found_rule
        rule, rule_version_id = found_rule
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
        return (self.principal.institution_id, item.program, rule_version_id, enterprise_id, individual_id,
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

    def _governing(self, program: str, disbursed_on: date) -> tuple:
        # Each version says which date governs a registration ([program.governing]): the disbursement date, or
        # the day of registration (where an application-governed subsidy takes its loans).
        rule, row = program_service.rule_governing(self.session, self.registry, code=program, use="registration",
                                                   dates={"disbursement": disbursed_on, "registration": self.today})
        return rule, row.id
