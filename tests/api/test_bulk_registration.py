"""Bulk loan registration over HTTP: good rows land, each bad row is reported with its number and reason."""
from __future__ import annotations

import csv
import io
from datetime import date

from sqlmodel import func, select
from stdnum.cn import uscc as stdnum_uscc

from claims.models import Enterprise, Loan
from tests.helpers import problem

TODAY = date(2026, 3, 31)
HEADER = ["program", "contract_no", "enterprise_uscc", "principal", "disbursed_on", "maturity_on", "annual_rate",
          "security_type"]
# A code that passes GB 32100 but names no seeded firm.
UNKNOWN_USCC = "91440300MA5" + "BENCH9" + stdnum_uscc.calc_check_digit("91440300MA5BENCH9")


def plain_firms(db) -> list[str]:
    """USCCs of seeded firms outside the excluded industry (K, real estate)."""
    return [e.uscc for e in db.exec(select(Enterprise).order_by(Enterprise.id))
            if not (e.industry or "").upper().startswith("K")]


def bad_check_digit(uscc: str) -> str:
    """The same code with a wrong check character."""
    return uscc[:17] + ("0" if uscc[17] != "0" else "1")


def build_file(firms: list[str]) -> tuple[bytes, dict[int, list[str]], int]:
    """200 rows: every 10th row is made bad in one of five ways; return the CSV, expected rejections, row count."""
    rows, expected = [], {}
    for i in range(200):
        number = i + 2  # the header is row 1
        row = {"program": "sz-sme-pool", "contract_no": f"BULK-{i:04d}", "enterprise_uscc": firms[i % len(firms)],
               "principal": f"{100000 + i * 1000}.50", "disbursed_on": "2026-02-15", "maturity_on": "2027-02-14",
               "annual_rate": "0.0435", "security_type": "unsecured"}
        kind = i % 50
        if kind == 9:
            row["enterprise_uscc"] = bad_check_digit(row["enterprise_uscc"])
            expected[number] = ["uscc_check_digit"]
        elif kind == 19:
            row["principal"] = "5000000.01"  # the program's single-loan limit is 5 000 000.00
            expected[number] = ["principal_above_limit"]
        elif kind == 29:
            row["contract_no"] = f"BULK-{i - 1:04d}"  # repeats the row above, which was accepted
            expected[number] = ["duplicate_contract"]
        elif kind == 39:
            row["disbursed_on"], row["maturity_on"] = "2025-12-01", "2026-11-30"  # window closed on 2026-03-01
            expected[number] = ["registration_window_closed"]
        elif kind == 49:
            row["enterprise_uscc"] = UNKNOWN_USCC
            expected[number] = ["enterprise_unknown"]
        rows.append(row)
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), expected, len(rows)


def upload(client, caller, content: bytes, name: str = "loans.csv"):
    return client.post("/loans/bulk", data={"file": (io.BytesIO(content), name)}, headers=caller.headers,
                       content_type="multipart/form-data")


def test_a_bulk_file_registers_good_rows_and_reports_each_bad_row_with_its_reason(app, client, callers, db):
    app.extensions["claims"]["today"] = TODAY
    content, expected, total = build_file(plain_firms(db))
    bank_a = callers["BANK_A"]

    response = upload(client, bank_a, content)

    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert len(expected) == 20
    assert (body["accepted"], body["rejected"]) == (180, 20)
    assert {r["row"]: [reason["code"] for reason in r["reasons"]] for r in body["rows"]} == expected
    assert all(r["status"] == "rejected" for r in body["rows"])
    duplicate = next(r for r in body["rows"] if r["row"] == 31)
    assert duplicate["contract_no"] == "BULK-0028"
    assert body["report_url"] == f"/loans/bulk/{body['report_id']}/report"

    db.commit()
    stored = db.exec(select(func.count()).select_from(Loan).where(Loan.institution_id == bank_a.institution_id)).one()
    assert stored == 180
    first = db.exec(select(Loan).where(Loan.contract_no == "BULK-0000")).one()
    assert (first.principal_fen, first.disbursed_on, first.status) == (10_000_050, date(2026, 2, 15), "registered")

    report = client.get(body["report_url"], headers=bank_a.headers)
    assert report.status_code == 200
    assert report.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(report.get_data().decode("utf-8-sig"))))
    assert lines[0] == ["row", "contract_no", "status", "reason_codes", "reasons"]
    assert len(lines) == total + 1
    by_row = {int(line[0]): line for line in lines[1:]}
    assert by_row[2][1:4] == ["BULK-0000", "accepted", ""]
    assert by_row[21][2:4] == ["rejected", "principal_above_limit"]
    assert by_row[41][2:4] == ["rejected", "registration_window_closed"]
    assert "2026-03-01" in by_row[41][4]
    assert {n: line[3].split() for n, line in by_row.items() if line[2] == "rejected"} == expected


def test_a_bulk_report_is_only_for_the_institution_that_uploaded_it(app, client, callers, db):
    app.extensions["claims"]["today"] = TODAY
    content, _, _ = build_file(plain_firms(db))
    body = upload(client, callers["BANK_A"], content).get_json()

    problem(client.get(body["report_url"], headers=callers["BANK_B"].headers), 404, "not_found")
    problem(client.get(body["report_url"], headers=callers["reviewer1"].headers), 403, "institution_only")


def test_an_already_registered_contract_is_a_duplicate_in_the_bulk_file(app, client, callers, db):
    app.extensions["claims"]["today"] = TODAY
    firms = plain_firms(db)
    bank_a = callers["BANK_A"]
    single = client.post("/loans", json={"program": "sz-sme-pool", "contract_no": "BULK-0000",
                                         "enterprise_uscc": firms[0], "principal": "100000.50",
                                         "disbursed_on": "2026-02-15", "maturity_on": "2027-02-14"},
                         headers=bank_a.headers)
    assert single.status_code == 201, single.get_json()
    content, expected, _ = build_file(firms)

    body = upload(client, bank_a, content).get_json()

    assert (body["accepted"], body["rejected"]) == (179, 21)
    assert {r["row"]: [x["code"] for x in r["reasons"]] for r in body["rows"]} == {2: ["duplicate_contract"],
                                                                                  **expected}


def test_a_file_with_a_missing_column_is_refused_whole(app, client, callers):
    app.extensions["claims"]["today"] = TODAY
    content = b"program,contract_no,principal\nsz-sme-pool,X-1,100.00\n"

    body = problem(upload(client, callers["BANK_A"], content), 422, "missing_column")

    assert "disbursed_on" in body["detail"]
