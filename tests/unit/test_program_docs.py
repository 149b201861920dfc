"""The author's kit: docs/programs.md and the JSON Schema come from the rule schema, which matches the readers."""

import json
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import jsonschema_rs
import pytest

from workflows import docgen
from workflows.rule_reader import Reader
from workflows.rules import load_rule

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "config" / "programs").glob("*/*.toml")) + sorted((ROOT / "tests").glob("**/fixtures/programs/*/*.toml"))


def test_docs_programs_md_is_what_the_schema_generates():
    assert docgen.DOC.read_text(encoding="utf-8") == docgen.markdown(), "run `python -m workflows.docgen`"


def test_every_key_the_readers_ask_for_is_in_the_schema(monkeypatch):
    asked: set[str] = set()
    original = Reader._get

    def recording(self, name, required):
        asked.add(self.key(name))
        return original(self, name, required)

    monkeypatch.setattr(Reader, "_get", recording)
    for path in FILES:
        load_rule(path)
    unknown = sorted(p for p in asked if docgen.lookup(p) is None)
    assert unknown == []
    # And the schema describes no section the readers never look at.
    sections = {p.split(".")[0].split("[")[0] for p in asked}
    assert {s.name for s in docgen.ALL_SECTIONS} - sections == set()


def test_a_key_the_schema_does_not_know_is_not_found():
    assert docgen.lookup("compensation.uplifts[0].when.any[1].firm[0].fiscal_year").type == "choice"
    assert docgen.lookup("compensation.uplifts[0].when.anyof") is None
    assert docgen.lookup("budget.annual.2025").type == "amount"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_every_program_file_validates_against_the_json_schema(path):
    document = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    plain = json.loads(json.dumps(document, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat()))
    jsonschema_rs.validate(docgen.json_schema(), plain)


def test_the_json_schema_refuses_an_unknown_key():
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(docgen.json_schema(), {"program": {"code": "x", "colour": "red"}, "review": {}})


def test_every_rule_book_citation_names_a_section_of_docs_rules_md():
    book = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (§\d+) ", book, flags=re.M))
    cited = {(path.name, ref) for path in FILES for ref in re.findall(r"docs/rules\.md (§\d+)", path.read_text(encoding="utf-8"))}
    assert cited and {ref for _, ref in cited} <= sections


def test_the_docs_and_schema_commands(tmp_path):
    from click.testing import CliRunner

    from claims.program_commands import docs_programs, program_schema

    assert CliRunner().invoke(docs_programs, ["--check"]).exit_code == 0
    out = tmp_path / "program.schema.json"
    assert CliRunner().invoke(program_schema, ["-o", str(out)]).exit_code == 0
    schema = json.loads(out.read_text(encoding="utf-8"))
    assert schema["properties"]["compensation"]["properties"]["split_policy"]["enum"] == ["program_floored", "largest_remainder"]
