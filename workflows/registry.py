"""Loaded program versions by code, answering which version is in force, and the errors rule loading raises."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from workflows.gates import pick_governing
from workflows.rule_model import ProgramRule


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

    def rule_for_use(self, code: str, use_case: str, dates: Mapping[str, date | None]) -> ProgramRule:
        """The version in force on the date that governs the use case (registration, filing, application).

        When none is, the error names the governing date and every version's span.
        """
        rule, why = pick_governing(self.versions(code), use_case, dates)
        if rule is None:
            raise NoRuleInForce(f"program {code!r} cannot be used for {use_case}: {why}")
        return rule

    def rule_governing(self, code: str, dates: Mapping[str, date | None]) -> ProgramRule:
        """The version in force on the date each version says governs (disbursement, default, claim, application)."""
        for rule in reversed(self.versions(code)):
            on = dates.get(rule.governing_date)
            if on is not None and rule.in_force_on(on):
                return rule
        given = ", ".join(f"{k}={v.isoformat()}" for k, v in dates.items() if v is not None)
        raise NoRuleInForce(f"program {code!r} has no version in force for {given or 'no dates'}")
