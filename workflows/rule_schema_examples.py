"""The [[examples]] section of a program file, key by key (see workflows.rule_schema and workflows.examples)."""

from __future__ import annotations

from workflows.examples import USES
from workflows.facts import CLASSIFICATIONS, SECURITY_TYPES
from workflows.rule_schema import K, Section

EXAMPLES = Section("examples", True, "Worked examples the file carries: facts in, the expected amount or refusal out. "
                   "A file whose example fails does not load; `claims check-program FILE` runs them.", (
    K("name", "string", "what the example shows", required=True),
    K("use", "choice", "what is run: a claim's payout, a registration, or a subsidy or reward", required=True,
      choices=USES),
    K("loan", "table", "the loan (required but for rewards)", keys=(
        K("principal", "amount", "principal", required=True),
        K("disbursed_on", "date", "disbursement date", required=True),
        K("maturity_on", "date", "maturity", default="12 months after disbursement"),
        K("security_type", "choice", "security type", default="unsecured", choices=tuple(sorted(SECURITY_TYPES))),
        K("unsecured_share", "ratio", "unsecured share", default="1"),
        K("first_loan", "boolean", "the firm's first loan", default="false"),
        K("policy_tool", "boolean", "funded by a policy tool", default="false"),
        K("attributes", "map", "loan attributes the bank declares", value_type="value"),
    )),
    K("firm", "table", "the borrowing firm", keys=(
        K("revenue", "amount", "annual revenue"),
        K("industry", "string", "industry code (GB/T 4754)"),
        K("lists", "tables", "dated list memberships", keys=(
            K("list", "string", "the list's code", required=True),
            K("from", "date", "first day on the list", required=True),
            K("to", "date", "last day on the list (open when absent)"),
            K("revoked_on", "date", "the entry stops counting from this day"),
        )),
        K("attributes", "tables", "attributes recorded on the firm with their dates", keys=(
            K("name", "string", "the attribute", required=True),
            K("value", "value", "its value as recorded", required=True),
            K("from", "date", "first day it is in force"),
            K("to", "date", "last day it is in force"),
            K("fiscal_year", "integer", "the fiscal year a per-year figure is for"),
        )),
    )),
    K("claim", "table", "the claim (use = \"claim\")", keys=(
        K("default_on", "date", "default date", required=True),
        K("claimed_on", "date", "claim date", required=True),
        K("outstanding_principal", "amount", "principal outstanding at default", required=True),
        K("unpaid_interest", "amount", "unpaid interest", default="0.00"),
        K("interest_days", "integer", "days of unpaid interest", default="0"),
        K("recovered", "amount", "recovered before the claim", default="0.00"),
        K("classification", "choice", "loan classification", choices=CLASSIFICATIONS),
    )),
    K("registration", "table", "the registration (use = \"registration\")", keys=(
        K("registered_on", "date", "registration date", default="the disbursement date"),
        K("institution", "string", "the registering institution", default="bank"),
        K("firm_banks", "strings", "banks the firm already borrows from under the program this year"),
        K("other_coverage", "strings", "other programs already covering the loan"),
    )),
    K("interest", "table", "an interest-subsidy application (use = \"interest\")", keys=(
        K("period_start", "date", "first day of the period", required=True),
        K("period_end", "date", "last day of the period", required=True),
        K("applied_on", "date", "application date (eligibility is checked when given)"),
        K("interest_paid", "amount", "interest paid in the period", required=True),
        K("outstanding_principal", "amount", "principal outstanding", default="the loan's principal"),
        K("loan_rate", "decimal", "the loan's annual rate", required=True),
        K("overdue", "boolean", "the loan is overdue", default="false"),
        K("extended", "boolean", "the loan was extended", default="false"),
    )),
    K("fee", "table", "a fee-subsidy application (use = \"fee\")", keys=(
        K("period_end", "date", "last day of the period"),
        K("applied_on", "date", "application date"),
        K("paid", "amount", "the fee paid", required=True),
        K("kind", "string", "the fee kind", default="guarantee_fee"),
    )),
    K("reward", "table", "a reward application (use = \"reward\")", keys=(
        K("basis", "amount", "the business it is on", required=True),
        K("institution_kind", "string", "the applying institution's kind", default="bank"),
    )),
    K("usage", "table", "what caps have used already, and the bases of share caps (default: nothing used, unbounded)", keys=(
        *(K(name, "amount", meaning) for name, meaning in (
            ("enterprise_year", "paid for the firm this year"), ("enterprise_lifetime", "paid for the firm in all"),
            ("institution_year", "paid to the institution this year"),
            ("registered_principal", "principal the institution registered this year"),
            ("prior_year_balance", "the institution's balance outstanding on 1 January"),
            ("budget_remaining", "the program budget left"), ("program_year", "subsidy paid to the firm this year"),
            ("firm_year", "all subsidies paid to the firm this year"), ("firm_lifetime", "all subsidies paid to the firm"),
            ("registration_year_cohort", "approved on the institution's loans registered in the claimed loan's "
                                         "registration year (share_of_registered_year = registration_year)"))),
        K("prior_year_balance_on", "date", "the day the prior-year balance is taken on (for the trace)"),
    )),
    K("lpr", "tables", "LPR fixings for an interest example", keys=(
        K("effective_on", "date", "first day of the fixing", required=True),
        K("one_year", "decimal", "1-year LPR", required=True),
        K("five_year", "decimal", "5-year LPR", required=True),
    )),
    K("expect", "table", "what must come out", required=True, keys=(
        K("amount", "amount", "the amount, to the fen"),
        K("ratio", "decimal", "the ratio (claims)"),
        K("shares", "map", "each party's part (guarantee funds)", value_type="amount"),
        K("refused", "strings", "the refusal reason codes; [] means it must be accepted"),
        K("binding_cap", "string", "the cap that binds"),
        K("trace", "strings", "phrases the trace (or the refusal) must contain"),
    )),
), example='[[examples]]\nname = "key-list firm with an IP pledge: counted once"\nuse = "claim"\n'
           'loan = { principal = "1000000.00", disbursed_on = 2024-03-01, security_type = "ip_pledge" }\n'
           'firm = { lists = [ { list = "city_key_firm", from = 2023-06-01 } ] }\n'
           'claim = { default_on = 2024-12-01, claimed_on = 2025-03-10, outstanding_principal = "800000.00" }\n'
           'expect = { amount = "320000.00", ratio = "0.40", trace = ["met: any of"] }')
