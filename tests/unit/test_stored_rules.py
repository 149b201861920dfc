"""A version read back from the database (its stored parameters) is the same rule as the file it was seeded from."""
from __future__ import annotations

import dataclasses
import json

import pytest

from workflows.rules import load_programs, parse_rule

from tests.unit.conftest import PROGRAMS

SHIPPED = [rule for code in load_programs(PROGRAMS).programs() for rule in load_programs(PROGRAMS).versions(code)]


@pytest.mark.parametrize("rule", SHIPPED, ids=lambda r: f"{r.code}@{r.version}")
def test_the_stored_parameters_parse_to_the_same_rule_as_the_file(rule):
    # What rule_version.parameters holds (JSON: decimals and dates as text) is all a worker has to go on.
    stored = json.loads(json.dumps(rule.to_dict()))
    again = parse_rule(stored, sha256=rule.sha256)
    assert dataclasses.replace(again, path=None) == dataclasses.replace(rule, path=None)
    assert again.lists == rule.lists and again.governing == rule.governing
