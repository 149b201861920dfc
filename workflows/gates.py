"""Eligibility gates ([[gates]]) and the governing date of each use case ([program.governing]).

A gate is a condition every loan (or application) must meet, or the demand that at least one of the
program's tiers applies; it is checked at the use cases it names and refuses with its own label. The
governing date says, per use case, which date picks the version of the program that applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from workflows.conditions import Condition, read_condition
from workflows.rule_reader import Reader

# The dates each use case knows, the first being the one it falls back to.
USE_CASES: dict[str, tuple[str, ...]] = {
    "registration": ("disbursement", "registration"),
    "filing": ("disbursement", "default", "claim"),
    "application": ("application", "disbursement"),
}
# The dates each use case has when it evaluates conditions.
KNOWN_DATES: dict[str, frozenset[str]] = {
    "registration": frozenset({"disbursement", "application", "registration"}),
    "filing": frozenset({"disbursement", "default", "claim"}),
    "application": frozenset({"disbursement", "application"}),
}
# The date standing in for the program-wide governing date where a use case does not know it:
# a program governed by the application date takes loans by the day they are registered.
_STAND_IN = {("registration", "application"): "registration"}


@dataclass(frozen=True)
class Gate:
    """A condition (or "a tier applies") a loan must meet to be registered, claimed or applied for."""

    name: str
    label: str
    when: Condition | None = None
    tier_applies: bool = False
    at: tuple[str, ...] = tuple(USE_CASES)


def read_gates(root: Reader) -> tuple[Gate, ...]:
    """The [[gates]] array of tables."""
    gates = []
    for item in root.tables("gates"):
        when_reader = item.table("when")
        gate = Gate(
            name=item.string("name", required=True) or "",
            label=item.string("label", required=True) or "",
            when=read_condition(when_reader) if when_reader is not None else None,
            tier_applies=bool(item.boolean("tier_applies", default=False)),
            at=item.strings("at", choices=USE_CASES) or tuple(USE_CASES),
        )
        if (gate.when is None) == (not gate.tier_applies):
            item.error("when", "a gate needs exactly one of `when` (a condition) or `tier_applies = true`")
        item.finish()
        gates.append(gate)
    names = [g.name for g in gates]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        root.error("gates", f"gate name {duplicate!r} is used twice")
    return tuple(gates)


def read_governing(program: Reader, governing_date: str | None) -> dict[str, str]:
    """[program.governing]: the date kind governing each use case, defaulting from governing_date."""
    chosen = default_governing(governing_date or "disbursement")
    table = program.table("governing")
    if table is None:
        return chosen
    for use_case, kinds in USE_CASES.items():
        kind = table.choice(use_case, kinds)
        if kind is not None:
            chosen[use_case] = kind
    table.finish()
    return chosen


def default_governing(governing_date: str) -> dict[str, str]:
    """Each use case governed by the program's date where it knows it, else by its stand-in or first date."""
    return {use_case: governing_date if governing_date in kinds
            else _STAND_IN.get((use_case, governing_date), kinds[0])
            for use_case, kinds in USE_CASES.items()}


def pick_governing(versions: Iterable, use_case: str, dates: Mapping[str, date | None]) -> tuple[object, str]:
    """(the newest version in force on the date that governs the use case, or None; why none is, if so)."""
    versions = list(versions)
    for rule in reversed(versions):
        on = dates.get(rule.governing[use_case])
        if on is not None and rule.in_force_on(on):
            return rule, ""
    if not versions:
        return None, "it has no published version"
    kinds = sorted({rule.governing[use_case] for rule in versions})
    asked = "; ".join(f"the {k} date {dates[k].isoformat()}" if dates.get(k) else f"the {k} date (not given)"
                      for k in kinds)
    spans = ", ".join(f"{r.version} from {r.effective_from.isoformat()} to "
                      f"{r.effective_to.isoformat() if r.effective_to else 'open end'}" for r in versions)
    return None, f"{use_case} is governed by {asked}, and no version is in force then (versions: {spans})"


def check_condition_dates(rule, sink) -> None:
    """Record a problem for each condition that looks at a date its use case does not have (it would fail later)."""
    def need(key: str, condition: Condition | None, use_cases) -> None:
        if condition is None:
            return
        for use_case in use_cases:
            missing = sorted(condition.date_kinds - KNOWN_DATES[use_case])
            if missing:
                sink.add(key, f"looks at the {', '.join(missing)} date, which {use_case} does not have "
                              f"(it has {', '.join(sorted(KNOWN_DATES[use_case]))})")
    comp = rule.compensation
    bands = comp.bands if comp is not None else ()
    for i, band in enumerate(bands):
        need(f"compensation.bands[{i}].when", band.when, ("filing",))
    for i, uplift in enumerate(comp.uplifts if comp is not None else ()):
        need(f"compensation.uplifts[{i}].when", uplift.when, ("filing",))
    for i, tier in enumerate(rule.interest.tiers if rule.interest is not None else ()):
        need(f"interest.tiers[{i}].when", tier.when, ("application",))
    for i, gate in enumerate(rule.gates):
        need(f"gates[{i}].when", gate.when, gate.at)
        if gate.tier_applies:
            for j, band in enumerate(bands):
                need(f"compensation.bands[{j}].when", band.when, gate.at)
