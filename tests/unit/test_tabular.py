"""Reading uploaded tables (CSV): encodings, headers, rows, limits; writing CSV that cannot run as formulas."""
import datetime
import io
from decimal import Decimal

import pytest

from claims.tabular import Row, TabularError, neutralise_cell, read_table, write_csv
from tests.unit.tabular_samples import LOAN_COLUMNS, error_of, read_all

CSV_TEXT = (
    "合同编号,统一社会信用代码,贷款金额（元）,放款日期\r\n"
    "HT-2025-001, 91440300MA5F00001A ,1000000.00,2025-03-01\r\n"
    "HT-2025-002,91440300MA5DC2XN8C,,2025-03-02\r\n"
)


def test_a_utf8_csv_with_chinese_headers_maps_to_canonical_keys():
    rows = read_all(CSV_TEXT.encode("utf-8"), columns=LOAN_COLUMNS)
    assert rows == [
        Row(2, {"contract_no": "HT-2025-001", "uscc": "91440300MA5F00001A", "principal": "1000000.00",
                "disbursed_on": "2025-03-01"}),
        Row(3, {"contract_no": "HT-2025-002", "uscc": "91440300MA5DC2XN8C", "principal": "",
                "disbursed_on": "2025-03-02"}),
    ]


def test_a_utf8_csv_with_a_bom_reads_the_same():
    assert read_all(CSV_TEXT.encode("utf-8-sig"), columns=LOAN_COLUMNS) == read_all(
        CSV_TEXT.encode("utf-8"), columns=LOAN_COLUMNS
    )


def test_a_gb18030_csv_from_chinese_excel_reads_the_same():
    assert read_all(CSV_TEXT.encode("gb18030"), columns=LOAN_COLUMNS) == read_all(
        CSV_TEXT.encode("utf-8"), columns=LOAN_COLUMNS
    )


def test_gb18030_found_after_many_ascii_rows_still_reads_in_one_pass():
    lines = ["contract_no,name"] + [f"HT-{i:06d},ascii firm {i}" for i in range(20_000)]
    lines.append("HT-LAST,深圳市示例星河微电子科技有限公司")
    data = ("\n".join(lines) + "\n").encode("gb18030")
    assert len(data) > 512 * 1024
    rows = read_all(data)
    assert len(rows) == 20_001
    assert rows[-1] == Row(20_002, {"contract_no": "HT-LAST", "name": "深圳市示例星河微电子科技有限公司"})


def test_a_file_mixing_utf8_and_gb18030_is_an_encoding_error():
    data = "name\n示例\n".encode("utf-8") + "示例\n".encode("gb18030")
    assert error_of(data).code == "csv_encoding"


def test_a_utf16_file_is_refused_with_advice():
    error = error_of("name\n示例\n".encode("utf-16"))
    assert error.code == "csv_encoding"
    assert "CSV UTF-8" in error.detail


def test_header_aliases_match_despite_half_width_brackets_case_and_spaces():
    data = "Contract No , 统一社会信用代码,贷款金额(元),放款日期\nA1,U1,5,2025-01-01\n".encode()
    assert read_all(data, columns=LOAN_COLUMNS)[0].values["principal"] == "5"


def test_the_canonical_key_itself_is_accepted_as_a_header():
    data = b"contract_no,uscc,principal,disbursed_on\nA1,U1,5,2025-01-01\n"
    assert read_all(data, columns=LOAN_COLUMNS)[0].values["contract_no"] == "A1"


def test_an_unknown_header_is_a_file_error_naming_the_column():
    error = error_of("合同编号,统一社会信用代码,贷款金额（元）,放款日期,备注\n".encode(), columns=LOAN_COLUMNS)
    assert error.code == "unknown_column"
    assert "备注" in error.detail and "column E" in error.detail


def test_a_missing_required_header_is_a_file_error():
    error = error_of("合同编号,统一社会信用代码\nA,B\n".encode(), columns=LOAN_COLUMNS)
    assert error.code == "missing_column"
    assert error.detail == "required columns missing: disbursed_on, principal"


def test_a_missing_optional_column_reads_as_empty():
    rows = read_all(
        "合同编号,统一社会信用代码,贷款金额（元）\nA,B,1\n".encode(),
        columns=LOAN_COLUMNS,
        optional={"disbursed_on"},
    )
    assert rows[0].values == {"contract_no": "A", "uscc": "B", "principal": "1", "disbursed_on": ""}


def test_two_headers_naming_one_column_are_a_duplicate():
    assert error_of("合同编号,contract no\n".encode(), columns={"contract_no": {"合同编号", "contract no"}}).code == (
        "duplicate_column"
    )


def test_blank_rows_are_skipped_but_keep_row_numbers_as_excel_shows_them():
    data = b"\n,,\nname,amount\n\nA,1\n , \nB,2\n"
    assert read_all(data) == [Row(5, {"name": "A", "amount": "1"}), Row(7, {"name": "B", "amount": "2"})]


def test_a_quoted_value_with_line_breaks_is_one_row():
    data = b'name,note\r\n"A","line one\r\nline two"\r\nB,x\r\n'
    rows = read_all(data)
    assert rows == [Row(2, {"name": "A", "note": "line one\r\nline two"}), Row(3, {"name": "B", "note": "x"})]


def test_old_mac_line_endings_are_understood():
    assert read_all(b"name,amount\rA,1\rB,2\r") == [
        Row(2, {"name": "A", "amount": "1"}),
        Row(3, {"name": "B", "amount": "2"}),
    ]


def test_short_rows_are_padded_and_data_under_no_header_is_refused():
    assert read_all(b"a,b,c\n1\n")[0].values == {"a": "1", "b": "", "c": ""}
    error = error_of(b"a,b\n1,2,3\n")
    assert (error.code, error.row) == ("unnamed_column", 2)


def test_a_trailing_blank_header_column_without_data_is_ignored():
    assert read_all(b"a,b,,\n1,2,,\n")[0].values == {"a": "1", "b": "2"}


def test_the_row_after_the_limit_raises_too_many_rows_after_the_allowed_ones_were_yielded():
    data = ("n\n" + "".join(f"{i}\n" for i in range(6))).encode()
    rows = read_table(io.BytesIO(data), "x.csv", max_rows=5)
    got = [next(rows).values["n"] for _ in range(5)]
    assert got == ["0", "1", "2", "3", "4"]
    with pytest.raises(TabularError) as caught:
        next(rows)
    assert (caught.value.code, caught.value.row) == ("too_many_rows", 7)


def test_exactly_the_limit_is_accepted():
    data = ("n\n" + "".join(f"{i}\n" for i in range(5))).encode()
    assert len(read_all(data, max_rows=5)) == 5


def test_an_empty_file_has_no_header():
    assert error_of(b"").code == "empty_file"
    assert error_of(b"\n\n").code == "empty_file"


def test_a_nul_byte_is_a_parse_error_with_its_row():
    error = error_of(b"a\n1\nx\x00y\n")
    assert (error.code, error.row) == ("csv_invalid", 3)


def test_old_excel_formats_are_refused_with_advice():
    error = error_of(b"\xd0\xcf\x11\xe0", filename="loans.xls")
    assert error.code == "unsupported_type"
    assert ".xlsx" in error.detail


def test_an_unknown_extension_is_refused():
    assert error_of(b"a\n", filename="loans.pdf").code == "unsupported_type"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-1234.50", "-1234.50"),
        ("+5", "+5"),
        ("深圳市示例科技有限公司", "深圳市示例科技有限公司"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_cells_that_would_run_as_formulas_are_neutralised(value, expected):
    assert neutralise_cell(value) == expected


def test_write_csv_renders_and_neutralises_every_cell():
    out = io.StringIO(newline="")
    write_csv(
        [
            ["name", "amount", "date", "note"],
            ["=1+1", Decimal("-12.30"), datetime.date(2025, 3, 1), None],
            ["示例, \"quoted\"", 7, "@x", "plain"],
        ],
        out,
    )
    assert out.getvalue() == (
        "name,amount,date,note\r\n"
        "'=1+1,-12.30,2025-03-01,\r\n"
        "\"示例, \"\"quoted\"\"\",7,'@x,plain\r\n"
    )


def test_an_exported_csv_reads_back_through_read_table():
    out = io.StringIO(newline="")
    write_csv([["name", "amount"], ["示例", Decimal("1.00")]], out)
    assert read_all(out.getvalue().encode("utf-8-sig")) == [Row(2, {"name": "示例", "amount": "1.00"})]
