"""docs/programs.md and the JSON Schema of a program file, both generated from workflows.rule_schema.

    python -m workflows.docgen            # rewrite docs/programs.md
    python -m workflows.docgen --check    # exit 1 if docs/programs.md differs from the schema
    python -m workflows.docgen --schema F # write the JSON Schema to F (- for stdout)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workflows.rule_schema import CONDITION, FIRM, RANGE, WINDOW, Key, Section
from workflows.rule_schema_examples import EXAMPLES
from workflows.rule_schema_sections import SECTIONS

DOC = Path(__file__).resolve().parents[1] / "docs" / "programs.md"
ALL_SECTIONS = (*SECTIONS, EXAMPLES)
_SHAPES = {"condition": CONDITION, "range": RANGE, "window": WINDOW, "firm": FIRM}
_ANY = object()


def _children(node: Key | Section):
    if isinstance(node, Section):
        return node.keys
    if node.type in ("table", "tables") and node.keys:
        return node.keys
    if node.type == "tables" and node.value_type == "condition":
        return CONDITION
    if node.type == "map":
        return _ANY
    if node.type == "value":
        return RANGE  # a value test may be a range table
    return _SHAPES.get(node.type, ())


def lookup(path: str) -> Key | Section | None:
    """The schema entry a key path such as "compensation.uplifts[0].when.any[1].list" names, or None."""
    parts = [part.split("[")[0] for part in path.split(".")]
    node = next((s for s in ALL_SECTIONS if s.name == parts[0]), None)
    for part in parts[1:]:
        if node is None:
            return None
        children = _children(node)
        if children is _ANY:
            node = Key(part, node.value_type or "value", "")
            continue
        node = next((k for k in children if k.name == part), None)
    return node


_TYPE_TEXT = {
    "string": "string", "boolean": "true / false", "integer": "whole number", "decimal": "decimal (string or number)",
    "ratio": "ratio 0–1 (\"0.30\")", "amount": "amount in yuan (\"3000000.00\")", "date": "date (2024-01-01)",
    "strings": "list of strings", "value": "value: true/false, number, string, list or range table",
    "table": "table", "tables": "array of tables", "condition": "condition (see Conditions)",
    "range": "range (see Ranges)", "window": "window (see Windows)", "firm": "firm test, or an array of them (see Firm tests)",
}


def _type_text(key: Key) -> str:
    if key.type == "choice":
        return "one of " + ", ".join(f"`{c}`" for c in key.choices)
    if key.type == "map":
        return f"table of name = {_TYPE_TEXT.get(key.value_type or 'value', key.value_type)}"
    if key.type == "tables" and key.value_type == "condition":
        return "array of conditions"
    text = _TYPE_TEXT[key.type]
    return text + (" from " + ", ".join(f"`{c}`" for c in key.choices) if key.choices and key.type == "strings" else "")


def _rows(keys, prefix: str = "") -> list[str]:
    rows = []
    for key in keys:
        default = "required" if key.required else (f"`{key.default}`" if key.default is not None else "—")
        meaning = key.meaning.replace("|", "\\|")
        rows.append(f"| `{prefix}{key.name}` | {_type_text(key)} | {default} | {meaning} |")
        if key.type in ("table", "tables") and key.keys:
            rows.extend(_rows(key.keys, f"{prefix}{key.name}{'[]' if key.type == 'tables' else ''}."))
    return rows


def _table(keys) -> list[str]:
    return ["| key | type | default | meaning |", "|---|---|---|---|", *_rows(keys), ""]


_SHAPE_DOCS = (
    ("Conditions", "condition", "A `when` table. Everything written in one table must hold together (it is an `all`); "
     "`all`, `any` and `not` combine conditions; an uplift whose `any` has several members met is counted once.",
     'when = { all = [ { firm = { name = "revenue", fiscal_year = "prior", at_most = "20000000.00" } },\n'
     '                 { not = { security_types = ["collateral"] } } ] }'),
    ("Ranges", "range", "Explicit edges: published rules say both \"more than 50 %\" (`more_than`) and \"70 % or more\" "
     "(`at_least`). Amount ranges (principal, revenue, bands by principal or revenue) are written in yuan.",
     'unsecured_share = { more_than = "0.50", less_than = "0.70" }'),
    ("Windows", "window", "Exactly one of days, months or working days after a start date; the last day counts.",
     "window = { working_days = 60 }"),
    ("Firm tests", "firm", "An attribute recorded on the firm (with its validity dates and, for per-year figures, "
     "its fiscal year) read as in force on a date. Values recorded as text are read as the type compared with: "
     "a number for ranges and numbers, true/false for booleans, else a string. A missing value never passes.",
     'firm = { name = "revenue", fiscal_year = "prior", on = "disbursement", at_most = "20000000.00" }'),
)


def markdown() -> str:
    """The text of docs/programs.md."""
    out = ["# Program files: every key", "",
           "<!-- Generated from workflows/rule_schema*.py by `python -m workflows.docgen` (or `claims docs-programs`);",
           "     do not edit by hand: a test fails when this file and the schema differ. -->", "",
           "A program version is one TOML file, `config/programs/<code>/<version>.toml`. Amounts are yuan strings "
           "with at most two decimals; ratios are decimals between 0 and 1; dates are TOML dates. Every problem in a "
           "file is reported at once with its key path, and a file whose own `[[examples]]` fail does not load. "
           "`claims check-program FILE` validates a file and runs its examples; `claims program-schema` prints the "
           "JSON Schema for editors. The rule book the files cite is [rules.md](rules.md); complete programs, one per "
           "construct, are under `tests/fixtures/programs/`.", ""]
    for section in ALL_SECTIONS:
        brackets = f"[[{section.name}]]" if section.array else f"[{section.name}]"
        out += [f"## `{brackets}`", "", section.meaning, "", f"Kinds: {', '.join(f'`{k}`' for k in section.kinds)}.", ""]
        out += _table(section.keys)
        if section.example:
            out += ["```toml", section.example, "```", ""]
    for title, shape, meaning, example in _SHAPE_DOCS:
        out += [f"## {title}", "", meaning, ""] + _table(_SHAPES[shape]) + ["```toml", example, "```", ""]
    return "\n".join(out).rstrip() + "\n"


def _json(key: Key) -> dict:
    simple = {
        "string": {"type": "string", "minLength": 1}, "boolean": {"type": "boolean"}, "integer": {"type": "integer"},
        "decimal": {"type": ["string", "number"]}, "ratio": {"$ref": "#/$defs/ratio"}, "amount": {"$ref": "#/$defs/amount"},
        "date": {"$ref": "#/$defs/date"}, "value": {}, "condition": {"$ref": "#/$defs/condition"},
        "range": {"$ref": "#/$defs/range"}, "window": {"$ref": "#/$defs/window"},
        "firm": {"oneOf": [{"$ref": "#/$defs/firm"}, {"type": "array", "items": {"$ref": "#/$defs/firm"}}]},
    }
    if key.type == "choice":
        schema = {"enum": list(key.choices)}
    elif key.type == "strings":
        items = {"enum": list(key.choices)} if key.choices else {"type": "string"}
        schema = {"type": "array", "items": items}
    elif key.type == "map":
        schema = {"type": "object", "additionalProperties": _json(Key("", key.value_type or "value", ""))}
    elif key.type == "table":
        schema = _object(key.keys)
    elif key.type == "tables":
        schema = {"type": "array", "items": {"$ref": "#/$defs/condition"} if key.value_type == "condition"
                  else _object(key.keys)}
    else:
        schema = dict(simple[key.type])
    schema["description"] = key.meaning
    return schema


def _object(keys) -> dict:
    schema = {"type": "object", "properties": {k.name: _json(k) for k in keys}, "additionalProperties": False}
    required = [k.name for k in keys if k.required]
    return {**schema, "required": required} if required else schema


def json_schema() -> dict:
    """The JSON Schema (2020-12) of a program file, for editors that validate TOML against one."""
    sections = {}
    for section in ALL_SECTIONS:
        body = {**_object(section.keys), "description": section.meaning}
        sections[section.name] = {"type": "array", "items": body} if section.array else body
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Claims backend program file",
        "type": "object", "properties": sections, "required": ["program", "review"], "additionalProperties": False,
        "$defs": {
            "amount": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$", "description": "yuan, at most two decimals"},
            "ratio": {"type": ["string", "number"], "description": "a decimal between 0 and 1"},
            "date": {"type": "string", "format": "date"},
            **{name: _object(keys) for name, keys in _SHAPES.items()},
        },
    }


def main(argv: list[str]) -> int:
    """Write or check docs/programs.md, or write the JSON Schema."""
    if argv[:1] == ["--schema"]:
        text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
        target = argv[1] if len(argv) > 1 else "-"
        sys.stdout.write(text) if target == "-" else Path(target).write_text(text, encoding="utf-8")
        return 0
    wanted = markdown()
    if argv[:1] == ["--check"]:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != wanted:
            print(f"{DOC} differs from the rule schema: run `python -m workflows.docgen`", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(wanted, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
