"""Reading uploaded workbooks (XLSX): cell types, sheet rows, and zip parts that are too big, too many or hostile."""
import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from claims.tabular import Row, cell_text, read_table
from tests.unit.tabular_samples import LOAN_COLUMNS, error_of, read_all, rewrite_member, xlsx_bytes


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


def test_xlsx_is_refused_outright_when_openpyxl_runs_without_defusedxml(monkeypatch):
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(RuntimeError, match="defusedxml"):
        read_all(xlsx_bytes([["name"], ["A"]]), "x.xlsx")
