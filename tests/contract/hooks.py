"""Schemathesis hooks of tests/contract/run_schemathesis.sh: generators for the identifier formats the spec names.

A 统一社会信用代码 (`format: uscc`) and a resident id (`format: resident-id`) end in a check character no
pattern can state, so drawn from the pattern alone nearly every "valid" value would be refused. These draw
values whose check character is right, built by the same functions the service validates with.
"""
from __future__ import annotations

from datetime import date

import schemathesis
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from workflows.identifiers import USCC_AUTHORITIES

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PAIRS = [a + t for a, (_, types) in USCC_AUTHORITIES.items() for t in types]


@st.composite
def _uscc(draw) -> str:
    head = draw(st.sampled_from(PAIRS)) + draw(st.text("0123456789", min_size=6, max_size=6))
    body = head + draw(st.text(ALPHABET, min_size=9, max_size=9))
    return body + stdnum_uscc.calc_check_digit(body)


@st.composite
def _resident_id(draw) -> str:
    birth = draw(st.dates(min_value=date(1960, 1, 1), max_value=date(2005, 12, 31)))
    body = "110105" + birth.strftime("%Y%m%d") + draw(st.text("0123456789", min_size=3, max_size=3))
    return body + stdnum_ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check character


schemathesis.openapi.format("uscc", _uscc())
schemathesis.openapi.format("resident-id", _resident_id())
