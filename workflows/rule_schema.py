"""The program file's schema: every section and key with its type, default and meaning.

This is what docs/programs.md and the JSON Schema export are generated from; a test reads every program
file with a recording reader and fails if the readers ask for a key this schema does not describe.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.attribute_tests import DATE_KINDS, FISCAL_YEARS
from workflows.facts import SECURITY_TYPES
from workflows.rule_model import KINDS

# Types: string, choice, boolean, integer, decimal, ratio, amount, date, strings, value, table, tables,
# map (any key, each a `value_type`), and the shared shapes condition, range, window, firm.


@dataclass(frozen=True)
class Key:
    """One key of a table: its type, whether it is required, its default and its meaning."""

    name: str
    type: str
    meaning: str
    required: bool = False
    default: str | None = None
    choices: tuple[str, ...] = ()
    keys: tuple[Key, ...] = ()
    value_type: str | None = None


@dataclass(frozen=True)
class Section:
    """A top-level table ([name]) or array of tables ([[name]]) with the kinds that may carry it."""

    name: str
    array: bool
    meaning: str
    keys: tuple[Key, ...]
    kinds: tuple[str, ...] = KINDS
    example: str = ""


def K(name, type_, meaning, **kw) -> Key:  # noqa: N802 - reads as a table row
    """Shorthand for a Key."""
    return Key(name, type_, meaning, **kw)


RANGE = (
    K("at_least", "decimal", "lower edge, inclusive (≥)"),
    K("more_than", "decimal", "lower edge, exclusive (>); not with at_least"),
    K("at_most", "decimal", "upper edge, inclusive (≤)"),
    K("less_than", "decimal", "upper edge, exclusive (<); not with at_most"),
)
WINDOW = (
    K("days", "integer", "calendar days after the start (the last day counts)"),
    K("months", "integer", "calendar months after the start, clamped to the month's last day"),
    K("working_days", "integer", "working days under the Chinese holiday calendar (调休 included)"),
)
FIRM = (
    K("name", "string", "the attribute recorded on the firm (revenue, research_partner, zone, headcount, ...)",
      required=True),
    K("on", "choice", "the date the recorded value is read as of", default="disbursement", choices=DATE_KINDS),
    K("fiscal_year", "choice", "read the figure of the fiscal year before (prior) or of (same) that date's year",
      choices=FISCAL_YEARS),
    K("equals", "value", "the value must equal this (true/false, a number or a string)"),
    K("one_of", "value", "the value must be one of these"),
    *RANGE,
)
CONDITION = (
    K("lists_any", "strings", "the firm is on at least one of these lists on the list_on date"),
    K("list", "string", "the firm is on this list (same as lists_any with one code)"),
    K("list_on", "choice", "the date list membership is checked on", default="disbursement", choices=DATE_KINDS),
    K("first_loan", "boolean", "the loan is (true) or is not (false) the firm's first loan (首贷)"),
    K("policy_tool", "boolean", "the loan is (not) funded by a central-bank policy tool"),
    K("security_types", "strings", "the loan's security type is one of these", choices=tuple(sorted(SECURITY_TYPES))),
    K("unsecured_share", "range", "the loan's unsecured share (0 to 1) lies in the range"),
    K("principal", "range", "the principal (yuan) lies in the range"),
    K("revenue", "range", "the firm's annual revenue (yuan) lies in the range"),
    K("attributes", "map", "loan attributes the bank declared: name = value, [values] or a range table",
      value_type="value"),
    K("firm", "firm", "an attribute recorded on the firm, as in force on a date (a table, or an array of them)"),
    K("all", "tables", "every one of these conditions holds", value_type="condition"),
    K("any", "tables", "at least one of these conditions holds (an uplift still counts once)", value_type="condition"),
    K("not", "condition", "this condition does not hold"),
)
TIER = (
    K("name", "string", "the tier's name in the trace", required=True),
    K("label", "string", "the tier's name as published (Chinese)"),
    K("when", "condition", "who gets the tier", required=True),
    K("share", "ratio", "the share this tier raises to (share-based bases)"),
    K("rate", "ratio", "the rate this tier raises to (basis = fixed_rate)"),
)
