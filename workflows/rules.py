"""Program rule sets: typed, validated, effective-dated, loaded from config/programs/<code>/<version>.toml."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
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
from workflows.evidence import read_correction, read_documents
from workflows.rule_reader import ErrorSink, Reader, resolve_key
from workflows.rule_sections import (
    read_application,
    read_breaker,
    read_budget,
    read_caps,
    read_claim,
    read_compensation,
    read_enterprise,
    read_fee,
    read_interest,
    read_registration,
    read_review,
    read_reward,
    read_risk_shares,
    read_subsidy_caps,
)

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
# Evidence and correction sections (workflows/evidence.py) may appear in a program of any kind.
_SECTIONS = {kind: sections | {"documents", "correction"} for kind, sections in _SECTIONS.items()}
_ALL_SECTIONS = {"program", "budget"} | set().union(*_SECTIONS.values())


class RuleError(ValueError):
    """A program file (or set of files) that does not validate; the message names file and key."""

    code = "invalid_rule"

    def __init__(self, messages: list[str] | str):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


class NoRuleInForce(RuleError, LookupError):
    """No version of the program is in force on the date asked about."""

    code = "no_rule_in_force"


class UnknownProgram(RuleError, LookupError):
    """No program with that code is loaded."""

    code = "unknown_program"


def load_rule(path: str | Path) -> ProgramRule:
    """Load and fully validate one program file, raising RuleError that lists every problem."""
    path = Path(path)
    data = path.read_bytes()
    try:
        document = tomllib.loads(data.decode("utf-8"), parse_float=Decimal)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: (file): not valid TOML: {exc}") from exc
    return parse_rule(document, path=path, sha256=hashlib.sha256(data).hexdigest())


def parse_rule(document: dict, *, path: Path | None = None, sha256: str = "") -> ProgramRule:
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
    program.finish()
    if effective_from and effective_to and effective_to < effective_from:
        program.error("effective_to", f"{effective_to} is before effective_from {effective_from}")
    if path is not None and code and path.parent.name != code:
        program.error("code", f"{code!r} does not match the directory name {path.parent.name!r}")
    if path is not None and version and path.stem != version:
        program.error("version", f"{version!r} does not match the file name {path.name!r}")

    allowed = _SECTIONS.get(kind or "", _ALL_SECTIONS)
    for section in document:
        if section in _ALL_SECTIONS and section not in allowed | {"program", "budget"}:
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
        documents=read_documents(root.table("documents"), kind=kind),
        correction=read_correction(root.table("correction")),
    )
    for key in assumed:
        if not resolve_key(document, key):
            program.error("assumed", f"names {key!r}, which is not a key in this file")
    root.finish()
    if sink.problems:
        raise RuleError(sink.messages())
    return rule


class ProgramRegistry:
    """All loaded program versions, answering which version is in force on a date."""

    def __init__(self, rules: list[ProgramRule]):
        by_code: dict[str, list[ProgramRule]] = {}
        for rule in rules:
            by_code.setdefault(rule.code, []).append(rule)
        problems = []
        for versions in by_code.values():
            versions.sort(key=lambda r: r.effective_from)
            for earlier, later in zip(versions, versions[1:], strict=False):
                if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                    problems.append(
                        f"{later.path or later.version}: program.effective_from: {later.effective_from} overlaps "
                        f"{earlier.path or earlier.version} (in force {earlier.effective_from} to "
                        f"{earlier.effective_to or 'open end'})"
                    )
        if problems:
            raise RuleError(problems)
        self._by_code = by_code

    def programs(self) -> list[str]:
        """Every program code, sorted."""
        return sorted(self._by_code)

    def versions(self, code: str) -> list[ProgramRule]:
        """Every version of a program, oldest first."""
        if code not in self._by_code:
            raise UnknownProgram(f"no program {code!r} is loaded")
        return list(self._by_code[code])

    def rule_for(self, code: str, on: date) -> ProgramRule:
        """The version of the program in force on the date."""
        for rule in self.versions(code):
            if rule.in_force_on(on):
                return rule
        raise NoRuleInForce(f"program {code!r} has no version in force on {on.isoformat()}")

    def rule_governing(self, code: str, dates: Mapping[str, date | None]) -> ProgramRule:
        """The version in force on the date each version says governs (disbursement, default, claim, application)."""
        for rule in reversed(self.versions(code)):
            on = dates.get(rule.governing_date)
            if on is not None and rule.in_force_on(on):
                return rule
        given = ", ".join(f"{k}={v.isoformat()}" for k, v in dates.items() if v is not None)
        raise NoRuleInForce(f"program {code!r} has no version in force for {given or 'no dates'}")


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
