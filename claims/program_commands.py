"""`claims check-program`, `claims docs-programs` and `claims program-schema`: the program author's kit.

None of them needs the database or the application: they read program files and the rule schema only.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from workflows import docgen
from workflows.example_runner import run_examples
from workflows.money import format_fen
from workflows.rules import RuleError, load_rule


@click.command("check-program")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_program(files: tuple[Path, ...]) -> None:
    """Validate program files and run each file's own [[examples]]; exit 1 if any key or example is wrong."""
    failed = False
    for path in files:
        try:
            rule = load_rule(path, check_examples=False)
        except RuleError as exc:
            failed = True
            click.echo(f"{path}: INVALID", err=True)
            for message in exc.messages:
                click.echo(f"  {message}", err=True)
            continue
        outcomes = run_examples(rule)
        passed = sum(o.passed for o in outcomes)
        click.echo(f"{path}: {rule.code}@{rule.version} valid; {passed} of {len(outcomes)} examples pass")
        for outcome in outcomes:
            got = format_fen(outcome.amount_fen) if outcome.amount_fen is not None else \
                "refused: " + ", ".join(r.split(":")[0] for r in outcome.reasons) if outcome.reasons else "accepted"
            click.echo(f"  {'PASS' if outcome.passed else 'FAIL'} {outcome.name}: {got}")
            for problem in outcome.problems:
                click.echo(f"       {problem}")
        failed = failed or passed != len(outcomes)
    if failed:
        sys.exit(1)


@click.command("docs-programs")
@click.option("--check", is_flag=True, help="Exit 1 if docs/programs.md differs from the rule schema instead of writing it.")
def docs_programs(check: bool) -> None:
    """Write docs/programs.md (every key, type, default and meaning) from the rule schema."""
    sys.exit(docgen.main(["--check"] if check else []))


@click.command("program-schema")
@click.option("--output", "-o", default="-", help="File to write (default: standard output).")
def program_schema(output: str) -> None:
    """Print the JSON Schema of a program file, for editors."""
    text = json.dumps(docgen.json_schema(), ensure_ascii=False, indent=2)
    if output == "-":
        click.echo(text)
    else:
        Path(output).write_text(text + "\n", encoding="utf-8")


COMMANDS = (check_program, docs_programs, program_schema)
