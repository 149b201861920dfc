import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from claims.tabular import Row, TabularError, cell_text, neutralise_cell, read_table, write_csv

LOAN_COLUMNS = {
    "contract_no": {"合同编号", "contract no"},
    "uscc": {"统一社会信用代码"},
    "principal": {"贷款金额（元）"},
    "disbursed_on": {"放款日期"},
}


def read_all(data: bytes, filename: str = "loans.csv", **kwargs) -> list[Row]:
    return list(read_table(io.BytesIO(data), filename, **kwargs))


def error_of(data: bytes, filename: str = "loans.csv", **kwargs) -> TabularError:
    with pytest.raises(TabularError) as caught:
        read_all(data, filename, **kwargs)
    return caught.value


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite_member(data: bytes, name: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == name:
                content = change(content)
            target.writestr(item.filename, content)
    return out.getvalue()


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


def test_an_xlsx_keeps_numbers_as_typed_and_dates_as_iso():
    header = ["合同编号", "统一社会信用代码", "贷款金额（元）", "放款日期"]
    body = []
    for i in range(100):
        day = datetime.date(2025, 1, 1) + datetime.timedelta(days=i)
        body.append([f"HT-{i:03d}", "91440300MA5F00001A", 1234.5 + i, day])
    body[0][2] = 1.15 * 100  # 114.99999999999999 in the XML, as a formula result would be; Excel shows 115
    body[1][2] = 0.1 + 0.2
    body[2][2] = 5_000_000
    body[3][2] = 300000.0
    body[4][2] = 1e-7
    rows = read_all(xlsx_bytes([header, *body]), "loans.xlsx", columns=LOAN_COLUMNS)
    assert len(rows) == 100
    assert rows[0] == Row(2, {"contract_no": "HT-000", "uscc": "91440300MA5F00001A", "principal": "115",
                             "disbursed_on": "2025-01-01"})
    assert [r.values["principal"] for r in rows[1:6]] == ["0.3", "5000000", "300000", "0.0000001", "1239.5"]
    assert rows[99].values == {"contract_no": "HT-099", "uscc": "91440300MA5F00001A", "principal": "1333.5",
                               "disbursed_on": "2025-04-10"}
    assert rows[99].number == 101


def test_xlsx_cells_of_every_type_become_text():
    assert cell_text(None) == ""
    assert cell_text("  示例 ") == "示例"
    assert cell_text(True) == "TRUE"
    assert cell_text(42) == "42"
    assert cell_text(1234.4999999999998) == "1234.5"
    assert cell_text(1e20) == "100000000000000000000"
    assert cell_text(Decimal("12.500")) == "12.5"
    assert cell_text(datetime.datetime(2025, 3, 1)) == "2025-03-01"
    assert cell_text(datetime.datetime(2025, 3, 1, 9, 30)) == "2025-03-01 09:30:00"
    assert cell_text(datetime.time(9, 30)) == "09:30:00"


def test_an_xlsx_with_blank_rows_reports_sheet_row_numbers():
    data = xlsx_bytes([["name", "amount"], ["A", 1], [], [None, None], ["B", 2]])
    assert read_all(data, "x.xlsx") == [Row(2, {"name": "A", "amount": "1"}), Row(5, {"name": "B", "amount": "2"})]


def test_an_xlsx_with_a_wrong_dimension_tag_is_read_to_the_end():
    data = xlsx_bytes([["name"], ["A"], ["B"], ["C"]])
    data = rewrite_member(data, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b'ref="A1:A4"', b'ref="A1:A1"'))
    assert [r.values["name"] for r in read_all(data, "x.xlsx")] == ["A", "B", "C"]


def test_an_xlsx_from_a_non_seekable_stream_is_read():
    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self._source = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._source.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    rows = list(read_table(Pipe(xlsx_bytes([["name"], ["A"]])), "x.xlsx"))
    assert rows == [Row(2, {"name": "A"})]


def test_too_many_xlsx_rows_raise_after_the_limit():
    data = xlsx_bytes([["n"], *[[i] for i in range(11)]])
    assert error_of(data, "x.xlsx", max_rows=10).code == "too_many_rows"


def test_a_csv_renamed_to_xlsx_is_invalid():
    assert error_of(b"name\nA\n", "x.xlsx").code == "xlsx_invalid"


def test_a_zip_that_is_not_a_workbook_is_invalid():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert error_of(out.getvalue(), "x.xlsx").code == "xlsx_invalid"


def test_a_300_mib_zip_bomb_is_refused_before_openpyxl_opens_it():
    out = io.BytesIO()
    zeros = bytes(2**20)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(zeros)
    assert len(out.getvalue()) < 2 * 2**20
    error = error_of(out.getvalue(), "bomb.xlsx")
    assert error.code == "xlsx_bomb"
    assert "200 MiB" in error.detail


def test_a_highly_compressed_part_is_refused_even_under_the_size_limit():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", bytes(4 * 2**20))
    error = error_of(out.getvalue(), "bomb.xlsx")
    assert error.code == "xlsx_bomb"
    assert "sharedStrings" in error.detail


def test_the_total_size_limit_counts_all_parts():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(3):
            archive.writestr(f"xl/part{i}.bin", bytes(400_000))
    assert error_of(out.getvalue(), "x.xlsx", max_uncompressed_bytes=1_000_000).code == "xlsx_bomb"


def test_too_many_parts_are_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(10_001):
            archive.writestr(f"p{i}", b"")
    assert error_of(out.getvalue(), "x.xlsx").code == "xlsx_bomb"


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/passwd", "xl/../../evil", "C:evil", "..\\evil"])
def test_path_traversal_part_names_are_refused(name):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, b"x")
    assert error_of(out.getvalue(), "x.xlsx").code == "xlsx_invalid"


def test_an_xml_entity_bomb_inside_the_sheet_is_refused_by_defusedxml():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    data = xlsx_bytes([["name"], ["A"]])
    data = rewrite_member(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: laughs + xml.replace(b"<v>", b"<v>&lol3;", 1),
    )
    error = error_of(data, "x.xlsx")
    assert error.code == "xlsx_invalid"
    assert "EntitiesForbidden" in error.detail


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


def test_xlsx_is_refused_outright_when_openpyxl_runs_without_defusedxml(monkeypatch):
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(RuntimeError, match="defusedxml"):
        read_all(xlsx_bytes([["name"], ["A"]]), "x.xlsx")
