import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from workflows.rules import load_programs, parse_rule
from workflows.subsidy import LprTable

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "config" / "programs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

PROGRAM_HEADER = """
[program]
code = "test-program"
version = "1"
kind = "{kind}"
name = "测试项目"
effective_from = 2024-01-01
source = "unit test"
governing_date = "{governing_date}"
"""

REVIEW = """
[[review.stages]]
name = "first_review"
role = "reviewer"
sla_working_days = 5
"""


@pytest.fixture(scope="session")
def programs():
    return load_programs(PROGRAMS)


@pytest.fixture(scope="session")
def lpr():
    return LprTable.from_toml(PROGRAMS / "lpr.toml")


def rule_from_text(body: str, kind: str = "risk_pool", governing_date: str = "disbursement", review: bool = True):
    text = PROGRAM_HEADER.format(kind=kind, governing_date=governing_date) + body + (REVIEW if review else "")
    return parse_rule(tomllib.loads(text, parse_float=Decimal))


@pytest.fixture(scope="session")
def make_rule():
    return rule_from_text
