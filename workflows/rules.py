"""Program rule sets: typed, validated, effective-dated, loaded from config/programs/<code>/<version>.toml."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

from workflows.conditions import DATE_KINDS
from workflows.rule_model import (  # re-exported: the rule objects are part of this module's API
    BREAKER_ACTIONS,
    BREAKER_METRICS,
    COMPENSATION_KINDS,
    DAY_COUNTS,
    FEE_KINDS,
    INSTITUTION_KINDS,
    INTEREST_BASES,
    KINDS,
    REVIEW_ROLES,
    SETTLEMENT_PERIODS,
    ApplicationWindow,
    Band,
    Breaker,
    Caps,
    ClaimRule,
    CompensationRule,
    EnterpriseRule,
    FeeKindRule,
    FeeRule,
    InterestRule,
    PrincipalLimit,
    ProgramRule,
    RateTier,
    RegistrationRule,
    ReviewStage,
    RewardRate,
    RewardRule,
    RiskShare,
    SubsidyCaps,
    Uplift,
    Window,
)
from workflows.examples import read_examples
from workflows.gates import check_condition_dates, read_gates, read_governing
from workflows.program_lists import read_lists
from workflows.registry import NoRuleInForce, ProgramRegistry, RuleError, UnknownProgram
from workflows.evidence import read_correction, read_documents
from workflows.rule_reader import ErrorSink, Reader, resolve_key
from workflows.rule_compensation import read_compensation, read_risk_shares
from workflows.rule_sections import (
    read_breaker,
    read_budget,
    read_caps,
    read_claim,
    read_enterprise,
    read_registration,
    read_review,
)
from workflows.rule_subsidy_sections import read_application, read_fee, read_interest, read_reward, read_subsidy_caps

__all__ = [
    "ApplicationWindow",
    "BREAKER_ACTIONS",
    "BREAKER_METRICS",
    "Band",
    "Breaker",
    "COMPENSATION_KINDS",
    "Caps",
    "ClaimRule",
    "CompensationRule",
    "DAY_COUNTS",
    "EnterpriseRule",
    "FEE_KINDS",
    "FeeKindRule",
    "FeeRule",
    "INSTITUTION_KINDS",
    "INTEREST_BASES",
    "InterestRule",
    "KINDS",
    "NoRuleInForce",
    "PrincipalLimit",
    "ProgramRegistry",
    "ProgramRule",
    "REVIEW_ROLES",
    "RateTier",
    "RegistrationRule",
    "ReviewStage",
    "RewardRate",
    "RewardRule",
    "RiskShare",
    "RuleError",
    "SETTLEMENT_PERIODS",
    "SubsidyCaps",
    "UnknownProgram",
    "Uplift",
    "Window",
    "load_programs",
    "load_rule",
    "parse_rule",
]

# Sections a kind may carry; anything else in the file is an error.
_SECTIONS = {
    "risk_pool": {"registration", "enterprise", "claim", "compensation", "caps", "review", "breakers"},
    "guarantee_fund": {"registration", "enterprise", "claim", "compensation", "risk_shares", "caps", "review", "breakers"},
    "interest_subsidy": {"enterprise", "interest", "subsidy_caps", "application", "review"},
    "fee_subsidy": {"enterprise", "fee", "subsidy_caps", "application", "review"},
    "reward": {"reward", "application", "review", "breakers"},
}
_REQUIRED_SECTIONS = {
    "risk_pool": ("compensation", "claim", "review"),
    "guarantee_fund": ("compensation", "claim", "review"),
    "interest_subsidy": ("interest", "application", "review"),
    "fee_subsidy": ("fee", "application", "review"),
    "reward": ("reward", "application", "review"),
}
# Sections every kind may carry (evidence and correction: workflows/evidence.py).
_COMMON_SECTIONS = {"program", "budget", "gates", "lists", "examples", "documents", "correction"}
_ALL_SECTIONS = _COMMON_SECTIONS | set().union(*_SECTIONS.values())


def load_rule(path: str | Path, *, check_examples: bool = True) -> ProgramRule:
    """Load and fully validate one program file (running its examples), raising RuleError that lists every problem."""
    path = Path(path)
    data = path.read_bytes()
    try:
        document = tomllib.loads(data.decode("utf-8"), parse_float=Decimal)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: (file): not valid TOML: {exc}") from exc
    return parse_rule(document, path=path, sha256=hashlib.sha256(data).hexdigest(), check_examples=check_examples)


def parse_rule(document: dict, *, path: Path | None = None, sha256: str = "", check_examples: bool = True) -> ProgramRule:
    """Validate a parsed program document; `path` is used in messages and checked against code/version."""
    sink = ErrorSink(str(path) if path else "<program>")
    root = Reader(document, "", sink)
    program = root.table("program", required=True) or Reader({}, "program", sink)
    code = program.string("code", required=True)
    version = program.string("version", required=True)
    kind = program.choice("kind", KINDS, required=True)
    name = program.string("name", required=True)
    effective_from = program.date_value("effective_from", required=True)
    effective_to = program.date_value("effective_to")
    source = program.string("source", required=True)
    governing_date = program.choice("governing_date", DATE_KINDS, required=True)
    settlement_period = program.choice("settlement_period", SETTLEMENT_PERIODS, default="quarter")
    assumed = program.strings("assumed") or ()
    program.string("notes")
    governing = read_governing(program, governing_date)
    program.finish()
    if effective_from and effective_to and effective_to < effective_from:
        program.error("effective_to", f"{effective_to} is before effective_from {effective_from}")
    if path is not None and code and path.parent.name != code:
        program.error("code", f"{code!r} does not match the directory name {path.parent.name!r}")
    if path is not None and version and path.stem != version:
        program.error("version", f"{version!r} does not match the file name {path.name!r}")

    allowed = _SECTIONS.get(kind or "", _ALL_SECTIONS)
    for section in document:
        if section in _ALL_SECTIONS and section not in allowed | _COMMON_SECTIONS:
            root.raw(section)
            root.error(section, f"section not allowed for kind {kind!r}")
    for section in _REQUIRED_SECTIONS.get(kind or "", ()):
        if section not in document:
            root.error(section, f"section is required for kind {kind!r}")

    budget_by_year, default_budget = read_budget(root.table("budget"))
    compensation = read_compensation(root.table("compensation"))
    risk_shares = read_risk_shares(root, compensation)
    review_stages, separation = read_review(root.table("review"))
    rule = ProgramRule(
        code=code or "",
        version=version or "",
        kind=kind or "",
        name=name or "",
        effective_from=effective_from or date.min,
        effective_to=effective_to,
        source=source or "",
        governing_date=governing_date or "disbursement",
        settlement_period=settlement_period or "quarter",
        review_stages=review_stages,
        separation_of_duties=separation,
        breakers=tuple(read_breaker(b) for b in root.tables("breakers")),
        budget_by_year=budget_by_year,
        default_annual_budget_fen=default_budget,
        registration=read_registration(root.table("registration")),
        enterprise=read_enterprise(root.table("enterprise")),
        claim=read_claim(root.table("claim")),
        compensation=compensation,
        risk_shares=risk_shares,
        caps=read_caps(root.table("caps"), has_budget=bool(budget_by_year) or default_budget is not None),
        interest=read_interest(root.table("interest")),
        fee=read_fee(root.table("fee")),
        subsidy_caps=read_subsidy_caps(root.table("subsidy_caps")),
        reward=read_reward(root.table("reward")),
        application=read_application(root.table("application")),
        assumed=tuple(assumed),
        path=path,
        sha256=sha256,
        raw=document,
        governing=governing,
        gates=read_gates(root),
        lists=read_lists(root),
        examples=tuple(read_examples(root)),
        documents=read_documents(root.table("documents"), kind=kind),
        correction=read_correction(root.table("correction")),
    )
    for key in assumed:
        if not resolve_key(document, key):
            program.error("assumed", f"names {key!r}, which is not a key in this file")
    root.finish()
    check_condition_dates(rule, sink)
    if sink.problems:
        raise RuleError(sink.messages())
    if check_examples:
        _check_examples(rule, sink)
    return rule


def _check_examples(rule: ProgramRule, sink: ErrorSink) -> None:
    """Run the file's own worked examples: a file whose example fails does not load."""
    from workflows.example_runner import run_examples  # the engines import this module

    for index, outcome in enumerate(run_examples(rule)):
        for problem in outcome.problems:
            sink.add(f"examples[{index}]", f"{outcome.name}: {problem}")
    if sink.problems:
        raise RuleError(sink.messages())


def load_programs(directory: str | Path) -> ProgramRegistry:
    """Load every config/programs/<code>/<version>.toml under the directory, reporting all bad files at once."""
    root = Path(directory)
    rules: list[ProgramRule] = []
    problems: list[str] = []
    for path in sorted(root.glob("*/*.toml")):
        try:
            rules.append(load_rule(path))
        except RuleError as exc:
            problems.extend(exc.messages)
    if problems:
        raise RuleError(problems)
    return ProgramRegistry(rules)
