"""Worked examples a program file carries ([[examples]]): facts in, expected amount and trace highlights out.

Each example is read into plain facts here; workflows.example_runner runs it against the file's own rule.
Amounts are yuan strings as everywhere in a program file; dates are TOML dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from workflows.calendar import add_months
from workflows.facts import CLASSIFICATIONS, SECURITY_TYPES, ClaimFacts, EnterpriseAttribute, EnterpriseFacts, \
    ListMembership, LoanFacts
from workflows.rule_reader import Reader

USES = ("claim", "registration", "interest", "fee", "reward")
# The keys of the table an interest, fee or reward example gives its facts in, by type.
_SUBSIDY_KEYS = {
    "interest": dict(dates=("period_start", "period_end", "applied_on"), amounts=("interest_paid", "outstanding_principal"),
                     decimals=("loan_rate",), booleans=("overdue", "extended")),
    "fee": dict(dates=("period_end", "applied_on"), amounts=("paid",), strings=("kind",)),
    "reward": dict(amounts=("basis",), strings=("institution_kind",)),
}


@dataclass(frozen=True)
class Expectation:
    """What an example must come out as; None (or empty) means "not checked"."""

    amount_fen: int | None = None
    ratio: Decimal | None = None
    shares: dict[str, int] = field(default_factory=dict)
    refused: tuple[str, ...] | None = None
    binding_cap: str | None = None
    trace: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    """One worked example, read and typed."""

    name: str
    use: str
    loan: LoanFacts | None
    expect: Expectation
    claim: ClaimFacts | None = None
    registration: dict = field(default_factory=dict)
    subsidy: dict = field(default_factory=dict)
    usage: dict = field(default_factory=dict)
    lpr: tuple[tuple[date, Decimal, Decimal], ...] = ()


def read_examples(root: Reader) -> list[Example]:
    """The [[examples]] array of tables, each checked key by key."""
    examples = []
    for item in root.tables("examples"):
        example = _read_example(item)
        item.finish()
        if example is not None:
            examples.append(example)
    return examples


def _read_example(item: Reader) -> Example | None:
    name = item.string("name", required=True) or ""
    use = item.choice("use", USES, required=True)
    loan_reader = item.table("loan", required=use != "reward")
    firm = _read_firm(item.table("firm"))
    loan = _read_loan(loan_reader, firm) if loan_reader is not None else None
    claim_reader = item.table("claim", required=use == "claim")
    claim = _read_claim(claim_reader) if claim_reader is not None else None
    registration = _read_plain(item.table("registration"), dates=("registered_on",), strings=("institution",),
                               lists=("firm_banks", "other_coverage"))
    subsidy = _read_plain(item.table(use), **_SUBSIDY_KEYS[use]) if use in _SUBSIDY_KEYS else {}
    usage = _read_plain(item.table("usage"), amounts=(
        "enterprise_year", "enterprise_lifetime", "institution_year", "registered_principal", "prior_year_balance",
        "budget_remaining", "program_year", "firm_year", "firm_lifetime", "registration_year_cohort"),
        dates=("prior_year_balance_on",))
    lpr = []
    for fixing in item.tables("lpr"):
        lpr.append((fixing.date_value("effective_on", required=True), fixing.decimal("one_year", required=True),
                    fixing.decimal("five_year", required=True)))
        fixing.finish()
    expect = _read_expect(item.table("expect", required=True))
    if use is None or expect is None:
        return None
    return Example(name, use, loan, expect, claim, registration, subsidy, usage, tuple(lpr))


def _read_loan(reader: Reader, firm: EnterpriseFacts) -> LoanFacts | None:
    principal = reader.amount_fen("principal", required=True)
    disbursed = reader.date_value("disbursed_on", required=True)
    maturity = reader.date_value("maturity_on")
    share = reader.ratio("unsecured_share")
    attributes = reader.table("attributes")
    loan_attributes = {} if attributes is None else {k: attributes.raw(k) for k in list(attributes.data)}
    if attributes is not None:
        attributes.finish()
    values = dict(
        security_type=reader.choice("security_type", SECURITY_TYPES, default="unsecured") or "unsecured",
        first_loan=bool(reader.boolean("first_loan", default=False)),
        policy_tool=bool(reader.boolean("policy_tool", default=False)),
    )
    reader.finish()
    if principal is None or disbursed is None:
        return None
    return LoanFacts(principal_fen=principal, disbursed_on=disbursed, maturity_on=maturity or add_months(disbursed, 12),
                     unsecured_share=Decimal(1) if share is None else share, attributes=loan_attributes,
                     enterprise=firm, **values)


def _read_firm(reader: Reader | None) -> EnterpriseFacts:
    if reader is None:
        return EnterpriseFacts()
    memberships = []
    for entry in reader.tables("lists"):
        memberships.append(ListMembership(entry.string("list", required=True) or "",
                                          entry.date_value("from", required=True) or date.min,
                                          entry.date_value("to"), entry.date_value("revoked_on")))
        entry.finish()
    attributes = []
    for entry in reader.tables("attributes"):
        value = entry.raw("value", required=True)
        if isinstance(value, bool):
            value = "true" if value else "false"
        attributes.append(EnterpriseAttribute(entry.string("name", required=True) or "", str(value),
                                              entry.date_value("from"), entry.date_value("to"),
                                              entry.integer("fiscal_year", minimum=1900)))
        entry.finish()
    firm = EnterpriseFacts(revenue_fen=reader.amount_fen("revenue"), industry=reader.string("industry"),
                           memberships=tuple(memberships), attributes=tuple(attributes))
    reader.finish()
    return firm


def _read_claim(reader: Reader) -> ClaimFacts | None:
    default_on = reader.date_value("default_on", required=True)
    outstanding = reader.amount_fen("outstanding_principal", required=True)
    claim = dict(
        claimed_on=reader.date_value("claimed_on", required=True),
        unpaid_interest_fen=reader.amount_fen("unpaid_interest") or 0,
        interest_days=reader.integer("interest_days", default=0) or 0,
        recovered_before_claim_fen=reader.amount_fen("recovered") or 0,
        classification=reader.choice("classification", CLASSIFICATIONS),
    )
    reader.finish()
    if default_on is None or outstanding is None:
        return None
    return ClaimFacts(default_on=default_on, outstanding_principal_fen=outstanding, **claim)


def _read_plain(reader: Reader | None, *, dates=(), amounts=(), decimals=(), strings=(), booleans=(), lists=()) -> dict:
    if reader is None:
        return {}
    values: dict = {}
    for key in dates:
        values[key] = reader.date_value(key)
    for key in amounts:
        values[key] = reader.amount_fen(key)
    for key in decimals:
        values[key] = reader.decimal(key)
    for key in strings:
        values[key] = reader.string(key)
    for key in booleans:
        values[key] = reader.boolean(key)
    for key in lists:
        values[key] = reader.strings(key)
    reader.finish()
    return {k: v for k, v in values.items() if v is not None}


def _read_expect(reader: Reader | None) -> Expectation | None:
    if reader is None:
        return None
    shares_reader = reader.table("shares")
    shares = {}
    if shares_reader is not None:
        shares = {party: shares_reader.amount_fen(party) for party in list(shares_reader.data)}
        shares_reader.finish()
    expect = Expectation(
        amount_fen=reader.amount_fen("amount"),
        ratio=reader.decimal("ratio"),
        shares={k: v for k, v in shares.items() if v is not None},
        refused=reader.strings("refused") if reader.has("refused") else None,
        binding_cap=reader.string("binding_cap"),
        trace=reader.strings("trace") or (),
    )
    reader.finish()
    if expect.amount_fen is None and expect.refused is None:
        reader.error("amount", "an example expects an amount, or the reasons it is refused (refused = [...])")
    return expect
