"""The settlement-statement PDF: Chinese text survives, figures and words print, output is reproducible."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import subprocess

import pytest
from pypdf import PdfReader

from reports.cjk_text import format_amount, group_thousands
from reports.fonts import DEFAULT_FONT_PATH, FontNotFoundError, MissingGlyphError, register_cjk_font
from reports.pdf import render_statement
from reports.pdf_layout import CHUNK_ROWS
from reports.statement_model import SignatureParty, StatementLine, StatementSection, StatementTotals
from tests.unit.statement_samples import ENTERPRISES, make_statement, packed, pdftotext, render


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A three-claim statement written to disk once for the module."""
    path = tmp_path_factory.mktemp("pdf") / "statement.pdf"
    statement = make_statement()
    info = render_statement(statement, path)
    return statement, path, info


def test_thousands_separators_are_added_to_plain_amounts():
    assert group_thousands("0.05") == "0.05"
    assert group_thousands("999.00") == "999.00"
    assert group_thousands("1000.00") == "1,000.00"
    assert group_thousands("-1234567.80") == "-1,234,567.80"
    assert format_amount(123_456_789_01) == "123,456,789.01"


def test_the_render_info_describes_the_file_written(small):
    _, path, info = small
    data = path.read_bytes()
    assert info.bytes == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.pages == len(PdfReader(path).pages) == 2  # totals and signatures move to page 2 together


def test_pypdf_extracts_names_totals_and_the_amount_in_words(small):
    statement, path, _ = small
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    # claims: 1,012,345.67 / 1,024,691.34 / 1,037,037.01 lost, 40 % of each, floored to the fen
    assert "深圳市星河微电子科技有限公司" in text
    assert "深圳前海堃喆供应链管理有限公司" in text
    assert "1,229,629.59" in text  # claims paid: 404,938.26 + 409,876.53 + 414,814.80
    assert "11,666.78" in text  # subsidies
    assert "+1,242,061.81" in text  # net: -1,234.56 + 1,229,629.59 + 11,666.78 + 50,000.00 - 48,000.00
    assert statement.totals.net_fen == 124_206_181
    assert "应付 人民币壹佰贰拾肆万贰仟零陆拾壹元捌角壹分" in text
    assert "38,765,432.10" in text and "200,000,000.00" in text and "19.38%" in text
    assert "第 1 页 / 共 2 页" in text


def test_pdftotext_extracts_the_same_chinese_text(small):
    _, path, _ = small
    text = pdftotext(path)
    # poppler collapses the spaces between Chinese and figures; its raw mode keeps wrapped cells in order.
    raw = packed(pdftotext(path, layout=False))
    assert "深圳市中小微企业贷款风险补偿资金结算对账单" in text
    assert "深圳市星河微电子科技有限公司" in text
    assert "1,229,629.59" in text
    assert "壹佰贰拾肆万贰仟零陆拾壹元捌角壹分" in text
    assert "第1页/共2页" in raw and "第2页/共2页" in raw
    assert "SZ-RP-2026Q3-0001-v1" in text
    assert raw.count("基础30%+专精特新10pp=40%；单笔上限未触发") == 3


def test_the_cjk_font_is_embedded_as_a_subset(small):
    _, path, _ = small
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        name, *_, emb, sub, _uni, _num, _gen = row.split()
        assert re.fullmatch(r"[A-Z]{6}\+WenQuanYiZenHei(-\d+)?", name), row
        assert (emb, sub) == ("yes", "yes"), row


def test_a_character_the_font_lacks_is_refused_not_dropped():
    # U+20BB7 (the "土" variant of 吉, as in 𠮷野家) is in CJK Extension B, which Zen Hei does not cover.
    font = register_cjk_font()
    from reportlab.pdfbase import pdfmetrics

    assert 0x20BB7 not in pdfmetrics.getFont(font).face.charToGlyph
    statement = make_statement(name="深圳市𠮷祥餐饮管理有限公司😀")
    with pytest.raises(MissingGlyphError) as caught:
        render(statement)
    assert caught.value.characters == ("😀", "𠮷")  # in code point order
    assert "U+20BB7" in str(caught.value) and "U+1F600" in str(caught.value)


def test_the_same_statement_renders_to_identical_bytes():
    statement = make_statement()
    first, second = render(statement), render(statement)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert b"/CreationDate (D:20261009000000+08'00')" in first


def test_a_changed_amount_changes_the_digest():
    statement = make_statement()
    changed = dataclasses.replace(statement, version=2, number="SZ-RP-2026Q3-0001-v2")
    assert hashlib.sha256(render(statement)).digest() != hashlib.sha256(render(changed)).digest()


def test_a_long_statement_repeats_the_table_header_on_every_page_with_lines(tmp_path):
    count = 1200
    statement = make_statement(count)
    path = tmp_path / "long.pdf"
    info = render_statement(statement, path)
    assert count > 2 * CHUNK_ROWS  # so the statement crosses table chunks as well as pages
    assert info.pages >= 20
    pages = [page.extract_text() for page in PdfReader(path).pages]
    assert len(pages) == info.pages
    pages_with_claims = [text for text in pages if "CL-2026-" in text]
    assert len(pages_with_claims) >= info.pages - 1
    for number, text in enumerate(pages, start=1):
        assert f"第 {number} 页 / 共 {info.pages} 页" in text
    for text in pages_with_claims:
        header = packed(text)
        assert "损失本金（元）" in header and "核定补偿（元）" in header
        assert header.index("序号") < header.index("计算说明") < header.index("CL-2026-")  # header first
    every_reference = "".join(pages)
    assert all(f"CL-2026-{i:06d}" in every_reference for i in range(1, count + 1))


def test_a_summary_statement_has_one_line_per_institution_and_no_institution_header(tmp_path):
    base = make_statement()
    banks = [
        ("中国工商银行股份有限公司深圳市分行", "91440300892319466Q", 1_229_629_60),
        ("招商银行股份有限公司深圳分行", "914403007362142710", 730_000_00),
    ]
    lines = tuple(StatementLine(code, name, (paid,), "") for name, code, paid in banks)
    total = sum(paid for *_, paid in banks)
    statement = dataclasses.replace(
        base,
        number="SZ-RP-2026Q3-ALL-v1",
        institution=None,
        summary=True,
        opening_fen=0,
        sections=(
            StatementSection(
                "各合作机构本期拨付",
                ("实付金额（元）",),
                lines,
                total,
                reference_label="机构代码",
                name_label="机构名称",
            ),
        ),
        totals=StatementTotals(total, 0, 0, 0, total),
        signatures=(SignatureParty("出具单位", "深圳市财政局"),),
    )
    path = tmp_path / "summary.pdf"
    render_statement(statement, path)
    text = pdftotext(path)
    assert "全部合作机构（项目汇总）" in text
    assert "招商银行股份有限公司深圳分行" in text and "914403007362142710" in text
    assert "1,959,629.60" in text
    assert "壹佰玖拾伍万玖仟陆佰贰拾玖元陆角" in text


def test_a_statement_whose_lines_do_not_add_up_to_the_subtotal_is_rejected():
    with pytest.raises(ValueError, match="add up to 3 fen"):
        StatementSection("x", ("金额",), (StatementLine("a", "b", (1,)), StatementLine("c", "d", (2,))), 4)


def test_a_net_that_does_not_reconcile_with_the_movements_is_rejected():
    statement = make_statement()
    wrong = dataclasses.replace(statement.totals, net_fen=statement.totals.net_fen + 1)
    with pytest.raises(ValueError, match="does not reconcile"):
        dataclasses.replace(statement, totals=wrong)


def test_a_float_amount_is_rejected():
    with pytest.raises(TypeError, match="int fen"):
        StatementLine("a", "b", (12.5,))


def test_a_receivable_net_and_an_empty_section_print_as_such(tmp_path):
    base = make_statement()
    recoveries = StatementSection(
        "本期应退回的追偿款",
        ("追回金额（元）", "应退回（元）"),
        (StatementLine("RC-2026-000009", ENTERPRISES[3], (300_000_00, 120_000_00), "追回30万元×补偿比例40%"),),
        120_000_00,
    )
    empty_rewards = StatementSection("本期机构奖励", ("奖励金额（元）",), (), 0)
    statement = dataclasses.replace(
        base,
        opening_fen=0,
        sections=(empty_rewards, recoveries),
        totals=StatementTotals(0, 0, 0, 120_000_00, -120_000_00),
    )
    path = tmp_path / "receivable.pdf"
    render_statement(statement, path)
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "本期无此类事项" in text
    assert "-120,000.00" in text and "机构应退回财政局" in text
    assert "应收 人民币壹拾贰万元整" in text


def test_a_missing_font_file_says_how_to_install_one(monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMS_CJK_FONT", str(tmp_path / "absent.ttc"))
    with pytest.raises(FontNotFoundError, match="apt-get install fonts-wqy-zenhei"):
        render(make_statement())


def test_the_font_path_can_be_overridden_from_the_environment(monkeypatch, tmp_path):
    elsewhere = tmp_path / "zenhei-copy.ttc"
    elsewhere.symlink_to(DEFAULT_FONT_PATH)
    default_name = register_cjk_font()
    monkeypatch.setenv("CLAIMS_CJK_FONT", str(elsewhere))
    assert register_cjk_font() != default_name
    assert render(make_statement()).startswith(b"%PDF-")
