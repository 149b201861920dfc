"""The amount of a claim: the program's claim rules checked, the payout computed with today's cap usage."""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from claims import ledger
from claims.errors import Unprocessable
from claims.models import Claim, Enterprise, Loan
from claims.services.facts import cap_usage, enterprise_facts, loan_facts
from claims.services.programs import loaded_rule
from workflows import eligibility
from workflows.compensation import CompensationError, compute_compensation
from workflows.facts import ClaimFacts, LoanFacts
from workflows.money import format_fen


def claim_facts(claim: Claim, today: date) -> ClaimFacts:
    """A stored claim's stated facts as the engine evaluates them, filed on the given date."""
    return ClaimFacts(default_on=claim.default_on, outstanding_principal_fen=claim.outstanding_principal_fen,
                      unpaid_interest_fen=claim.unpaid_interest_fen, interest_days=claim.interest_days,
                      recovered_before_claim_fen=claim.recovered_before_fen, claimed_on=today,
                      classification=claim.classification or None, lawsuit_accepted_on=claim.lawsuit_accepted_on)


def loan_facts_of(session: Session, loan: Loan) -> LoanFacts:
    """A stored loan's facts with its firm's (memberships, attributes), as the engine evaluates them."""
    enterprise = session.get(Enterprise, loan.enterprise_id) if loan.enterprise_id else None
    return loan_facts(loan, enterprise_facts(session, enterprise))


def available_fen(session: Session, program_code: str, year: int, budget_fen: int | None) -> int | None:
    """What the ledger says is left of the program's budget for a year (the configured budget before any entry)."""
    kept = session.execute(select(ledger.AVAILABLE), {"program_code": program_code, "year": year}).scalar()
    return ledger.available_or_budget(kept, budget_fen)


def compute_claim(session: Session, *, registry, claim: Claim, loan: Loan, today: date,
                  facts: LoanFacts | None = None) -> str | None:
    """Recompute the payout with today's cap usage; store amount, ratio, shares and trace; name the cap that bound."""
    rule = loaded_rule(session, registry, rule_version_id=claim.rule_version_id)
    # The ledger is read only when the rule caps by the remaining budget (the engine ignores it otherwise),
    # and then by the cap-usage statement itself.
    budget = rule.annual_budget_fen(today.year) if rule.caps.program_budget else None
    usage = cap_usage(session, loan=loan, program_code=claim.program_code, year=today.year,
                      budget_fen=budget, with_budget=rule.caps.program_budget, exclude_claim_id=claim.id, caps=rule.caps)
    try:
        result = compute_compensation(rule, facts or loan_facts_of(session, loan), claim_facts(claim, today), usage)
    except CompensationError as exc:
        raise Unprocessable(str(exc), code=exc.code) from exc
    amount, trace = result.amount_fen, list(result.trace)
    if claim.requested_fen is not None and claim.requested_fen < amount:
        trace.append({"step": "cap:requested", "value": format_fen(claim.requested_fen),
                      "detail": "the institution requested less than the computed amount"})
        amount = claim.requested_fen
    claim.computed_fen, claim.ratio, claim.trace = amount, str(result.ratio), trace
    claim.shares = {party: format_fen(fen) for party, fen in (result.split or result.shares).items()}
    return result.binding_cap if amount == result.amount_fen else "requested"


def check_claim_rules(session: Session, registry, claim: Claim, loan: Loan, today: date,
                      facts: LoanFacts | None = None) -> None:
    """Refuse (422 claim_ineligible, every reason listed) a claim the loan's program rules do not admit."""
    rule = loaded_rule(session, registry, rule_version_id=loan.rule_version_id)
    reasons = eligibility.check_claim(rule, facts or loan_facts_of(session, loan), claim_facts(claim, today))
    if claim.outstanding_principal_fen > loan.principal_fen:
        reasons.append(eligibility.Reason("principal_exceeds_loan", "outstanding principal exceeds the loan's "
                                          "principal", "outstanding_principal"))
    if reasons:
        errors: dict[str, list[str]] = {}
        for reason in reasons:
            errors.setdefault(reason.field or "claim", []).append(f"{reason.message} [{reason.code}]")
        raise Unprocessable("The claim does not meet the program's claim rules.", code="claim_ineligible",
                            errors=errors, extra={"reasons": [r.to_dict() for r in reasons]})
