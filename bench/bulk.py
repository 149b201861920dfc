"""Figure 2, bulk registration: loans from a CSV through POST /loans/bulk vs the database's own bulk load.

Ours: one gunicorn worker receives the multipart upload, streams the rows, checks each against the
program and writes them in batches in one transaction, with the per-row CSV report. Peak RSS is the
worker's VmHWM. The floor reads the same CSV with the csv module, turns each row into the stored
values (enterprise id from a dict, amount to fen, dates) and hands them to PostgreSQL COPY or SQLite
executemany in one transaction, in a fresh process of its own.
"""
from __future__ import annotations

import csv
import http.client
import json
import sqlite3
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.common import PROGRAM, TODAY, BenchDatabase, Result, insert_firms, isolated, reference_ids
from bench.servers import Gunicorn

# Distinct borrowers in the file: a bank's quarterly file names many firms, some more than once.
FIRMS = 5_000
HEADER = ["program", "contract_no", "enterprise_uscc", "principal", "disbursed_on", "maturity_on", "annual_rate",
          "security_type"]
COLUMNS = ("institution_id", "program_code", "rule_version_id", "enterprise_id", "contract_no", "principal_fen",
           "disbursed_on", "maturity_on", "annual_rate", "security_type", "unsecured_share", "first_loan",
           "policy_tool", "attributes", "status", "days_overdue", "created_at")


def write_csv(path: Path, rows: int, usccs: list[str]) -> None:
    """rows good loans for one bank, disbursed inside the registration window of TODAY."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(rows):
            disbursed = TODAY - timedelta(days=i % 80)
            writer.writerow([PROGRAM, f"BULK-{i:07d}", usccs[i % len(usccs)], f"{50_000 + (i * 37) % 4_000_000}.{i % 100:02d}",
                             disbursed.isoformat(), (disbursed + timedelta(days=364)).isoformat(), "0.0435",
                             "unsecured"])


def _multipart(path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(server: Gunicorn, path: Path, key: str) -> tuple[float, dict]:
    """POST the file to /loans/bulk; seconds from the first byte sent to the parsed answer."""
    body, content_type = _multipart(path)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=900)
    began = time.perf_counter()
    conn.request("POST", "/loans/bulk", body=body, headers={"Content-Type": content_type, "X-API-Key": key})
    response = conn.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - began
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"bulk upload answered {response.status}: {payload[:500]!r}")
    return elapsed, json.loads(payload)


def floor_load(url: str, path: str, institution_id: int, rule_version_id: int, usccs: dict[str, int]) -> tuple[float, int]:
    """The database's own bulk load of the same rows, in one transaction: (seconds, rows)."""
    began = time.perf_counter()
    now = datetime.now().replace(microsecond=0)

    def rows():
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for program, contract, uscc, principal, disbursed, maturity, rate, security in reader:
                yield (institution_id, program, rule_version_id, usccs[uscc], contract, int(Decimal(principal) * 100),
                       date.fromisoformat(disbursed), date.fromisoformat(maturity), rate, security, "1", False, False,
                       "{}", "registered", 0, now)

    count = 0
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.executemany(
            f"INSERT INTO loan ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            ((*r[:6], r[6].isoformat(), r[7].isoformat(), *r[8:16], r[16].isoformat(sep=" ")) for r in rows()))
        count = cursor.rowcount
        conn.execute("COMMIT")
        conn.close()
    else:
        import psycopg

        dsn, _, options = url.partition("?")
        with psycopg.connect(dsn.replace("postgresql+psycopg", "postgresql"),
                             options=options.split("=", 1)[1].replace("%3D", "=")) as conn:
            with conn.cursor() as cursor:
                with cursor.copy(f"COPY loan ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows():
                        copy.write_row(row)
                        count += 1
    return time.perf_counter() - began, count


def run(db: BenchDatabase, *, rows: int, workdir: Path, log_dir: Path) -> tuple[Result, dict]:
    """Measure ours then the floor on the same file; return the row and the bulk details for the note."""
    engine = db.engine()
    insert_firms(engine, FIRMS)
    ids = reference_ids(engine)
    with engine.connect() as conn:
        plain = [row[0] for row in conn.execute(sa.text(
            "SELECT uscc FROM enterprise WHERE industry NOT LIKE 'K%' ORDER BY id")).all()]
    path = workdir / f"loans-{rows}.csv"
    write_csv(path, rows, plain)
    with Gunicorn("bench.wsgi:app", {**db.env(), "BENCH_APP": "product"}, workers=1, threads=1,
                  log=log_dir / "bulk-ours.log") as server:
        ours_seconds, report = upload(server, path, db.keys["BANK_A"])
        peak_ours = server.peak_worker_rss_mib()
    if (report["accepted"], report["rejected"]) != (rows, 0):
        raise RuntimeError(f"bulk registration accepted {report['accepted']}, rejected {report['rejected']}: "
                           f"{report['rows'][:3]}")
    institution_id = ids["institutions"]["BANK_A"]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM loan WHERE institution_id = :i"), {"i": institution_id})
    engine.dispose()
    (floor_seconds, loaded), peak_floor = isolated(floor_load, db.url, str(path), institution_id,
                                                   ids["rule_version"], ids["usccs"])
    if loaded != rows:
        raise RuntimeError(f"the floor loaded {loaded} rows, not {rows}")
    ours_rate, floor_rate = rows / ours_seconds, rows / floor_seconds
    met = ours_rate * 3 >= floor_rate and peak_ours < 500
    how = "COPY" if db.kind == "postgres" else "executemany"
    note = (f"{rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB CSV; ours {ours_seconds:.1f} s, "
            f"floor ({how}) {floor_seconds:.1f} s")
    result = Result("2 bulk registration", db.kind, "rows/s", ours_rate, floor_rate, True,
                    "<= 3x floor, < 500 MB", peak_ours, peak_floor, met, note)
    return result, {"rows": rows, "seconds": ours_seconds, "rows_per_s": ours_rate, "peak_mib": peak_ours}
