"""Figure 3, compensation engine: compute_compensation with its trace written out vs a plain Decimal loop.

Both get the same prebuilt facts for the Shenzhen SME pool (2023.1): five kinds of firm (on a listed
category or not, with dates), first loans, recoveries before the claim, cap usage that sometimes
binds. The floor does the same arithmetic straight: loss, base ratio plus the uplifts that apply,
ceiling, loss x ratio half-up to the fen, then the smallest room among the caps. It keeps no trace.
Every amount must agree, fen for fen. Each side runs in a fresh process.

Ours records every step of each trace as it computes and writes the trace out as text when it is first
read; the figure times the computation, and the note also gives the rate when every trace is read too.
"""
from __future__ import annotations

import time
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from bench.common import PROGRAM, Result, isolated

ONE = Decimal(1)
FIRMS = (
    (),
    (("specialized", date(2024, 1, 1), None),),
    (("high_tech", date(2022, 12, 12), date(2025, 12, 11)),),
    (("high_tech", date(2019, 1, 1), date(2021, 12, 31)),),  # lapsed before disbursement: no uplift
    (("tech_sme", date(2025, 3, 1), date(2026, 2, 28)), ("strategic_emerging", date(2024, 6, 1), None)),
)


def _rule():
    from claims.settings import load_settings
    from workflows.rules import load_programs

    registry = load_programs(load_settings("test").programs_dir)
    return registry.rule_governing(PROGRAM, {"disbursement": date(2025, 6, 1)})


def build_cases(count: int) -> list:
    """count (loan, claim, cap usage) facts, deterministic."""
    from workflows.facts import CapUsage, ClaimFacts, EnterpriseFacts, ListMembership, LoanFacts

    firms = [EnterpriseFacts(revenue_fen=5_000_000_00, industry="软件", memberships=tuple(ListMembership(*m) for m in f))
             for f in FIRMS]
    cases = []
    for i in range(count):
        principal = 10_000_00 + (i * 7_919_13) % 5_000_000_00
        loan = LoanFacts(principal_fen=principal, disbursed_on=date(2025, 6, 1 + i % 28), maturity_on=date(2026, 5, 31),
                         first_loan=i % 7 == 0, enterprise=firms[i % len(firms)])
        claim = ClaimFacts(default_on=date(2025, 12, 1), outstanding_principal_fen=principal * 4 // 5,
                           recovered_before_claim_fen=(i % 3) * 1_000_00, claimed_on=date(2026, 3, 31))
        usage = CapUsage(enterprise_year_fen=(i % 11) * 300_000_00, institution_year_fen=(i % 13) * 1_000_000_00,
                         institution_cohort_fen=(i % 13) * 1_000_000_00,
                         institution_registered_principal_fen=200_000_000_00 + (i % 17) * 10_000_000_00,
                         program_budget_remaining_fen=80_000_000_00)
        cases.append((loan, claim, usage))
    return cases


def ours(count: int) -> tuple[float, int, int, float]:
    """Evaluate every case with the rule engine: (seconds, total fen, checksum of amounts, seconds when each trace is read too)."""
    from workflows.compensation import compute_compensation

    rule, cases = _rule(), build_cases(count)
    began = time.perf_counter()
    amounts = [compute_compensation(rule, loan, claim, usage).amount_fen for loan, claim, usage in cases]
    elapsed = time.perf_counter() - began
    began = time.perf_counter()
    for loan, claim, usage in cases:
        compute_compensation(rule, loan, claim, usage).trace  # noqa: B018 - reading it is what is timed
    with_trace = time.perf_counter() - began
    return elapsed, sum(amounts), hash(tuple(amounts)), with_trace


def floor(count: int) -> tuple[float, int, int]:
    """The same arithmetic as a plain loop over the same facts: (seconds, total fen, checksum of amounts)."""
    rule, cases = _rule(), build_cases(count)
    comp, caps = rule.compensation, rule.caps
    uplifts = []
    for uplift in comp.uplifts:
        when = uplift.when
        uplifts.append((frozenset(when.lists_any), when.first_loan, uplift.add))
    base, ceiling = comp.base_ratio, comp.ceiling
    began = time.perf_counter()
    amounts = []
    for loan, claim, usage in cases:
        loss = max(claim.outstanding_principal_fen - claim.recovered_before_claim_fen, 0)
        ratio = base
        on = loan.disbursed_on
        for lists, first_loan, add in uplifts:
            if lists:
                applies = any(m.category in lists and m.valid_from <= on and (m.valid_to is None or on <= m.valid_to)
                              for m in loan.enterprise.memberships)
            else:
                applies = loan.first_loan == first_loan
            if applies:
                ratio += add
        ratio = min(ratio, ceiling)
        amount = int((Decimal(loss) * ratio).quantize(ONE, rounding=ROUND_HALF_UP))
        share_limit = int((Decimal(usage.institution_registered_principal_fen)
                           * caps.per_institution_year_share_of_registered).to_integral_value(rounding=ROUND_FLOOR))
        amount = min(amount, caps.per_loan_fen, max(caps.per_enterprise_year_fen - usage.enterprise_year_fen, 0),
                     max(share_limit - usage.institution_year_fen, 0), usage.program_budget_remaining_fen)
        amounts.append(amount)
    elapsed = time.perf_counter() - began
    return elapsed, sum(amounts), hash(tuple(amounts))


def run(*, count: int) -> Result:
    """Ours then the floor, each in a fresh process; the amounts must match."""
    (ours_s, ours_total, ours_digest, traced_s), peak_ours = isolated(ours, count)
    (floor_s, floor_total, floor_digest), peak_floor = isolated(floor, count)
    if (ours_total, ours_digest) != (floor_total, floor_digest):
        raise RuntimeError(f"the engine and the plain loop disagree: {ours_total} vs {floor_total} fen")
    # The service stores every trace, so the figure is the traced rate; the untraced one shows what the
    # arithmetic alone costs (the trace is written out on first read).
    note = (f"{count:,} claims, {ours_total / 100:,.2f} yuan in all, equal to the fen; "
            f"ours {count / traced_s:,.0f}/s with every trace written out ({count / ours_s:,.0f}/s, "
            f"{ours_s / floor_s:.1f}x floor, when the traces are recorded but not read), floor {count / floor_s:,.0f}/s")
    return Result("3 compensation engine", "-", "s", traced_s, floor_s, False, "<= 3x floor", peak_ours, peak_floor,
                  traced_s <= 3 * floor_s, note)
