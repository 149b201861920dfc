"""Facts for the worked examples: yuan as fen, a loan, a claim, cap usage with room everywhere."""
from datetime import date
from decimal import Decimal

from workflows.compensation import CapUsage, ClaimFacts, EnterpriseFacts, LoanFacts


def yuan(text: str) -> int:
    """A yuan amount as integer fen."""
    return int(Decimal(text) * 100)


ROOMY = CapUsage(
    institution_registered_principal_fen=yuan("1000000000.00"),
    institution_prior_year_balance_fen=yuan("1000000000.00"),
    program_budget_remaining_fen=yuan("100000000.00"),
    institution_cohort_fen=0,
)


def loan(principal="1000000.00", disbursed=date(2024, 3, 1), revenue=None, memberships=(), **kw):
    """A one-year loan, disbursed 1 March 2024 unless told, to a firm with the given revenue and lists."""
    return LoanFacts(
        principal_fen=yuan(principal),
        disbursed_on=disbursed,
        maturity_on=date(disbursed.year + 1, disbursed.month, 1),
        enterprise=EnterpriseFacts(revenue_fen=None if revenue is None else yuan(revenue), memberships=memberships),
        **kw,
    )


def claim(loss="1000000.00", **kw):
    """A claim on a default of 1 December 2024, filed 10 March 2025."""
    return ClaimFacts(default_on=date(2024, 12, 1), outstanding_principal_fen=yuan(loss), claimed_on=date(2025, 3, 10), **kw)
