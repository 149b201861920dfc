"""Reading test tables: loan columns, files in memory, a workbook rewritten part by part."""
import io
import zipfile

import openpyxl
import pytest

from claims.tabular import Row, TabularError, read_table

LOAN_COLUMNS = {
    "contract_no": {"合同编号", "contract no"},
    "uscc": {"统一社会信用代码"},
    "principal": {"贷款金额（元）"},
    "disbursed_on": {"放款日期"},
}


def read_all(data: bytes, filename: str = "loans.csv", **kwargs) -> list[Row]:
    """Every row read_table yields for the file's bytes."""
    return list(read_table(io.BytesIO(data), filename, **kwargs))


def error_of(data: bytes, filename: str = "loans.csv", **kwargs) -> TabularError:
    """The TabularError reading the file raises."""
    with pytest.raises(TabularError) as caught:
        read_all(data, filename, **kwargs)
    return caught.value


def xlsx_bytes(rows) -> bytes:
    """A workbook of one sheet with these rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite_member(data: bytes, name: str, change) -> bytes:
    """The zip (an xlsx) with one member's bytes changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == name:
                content = change(content)
            target.writestr(item.filename, content)
    return out.getvalue()
