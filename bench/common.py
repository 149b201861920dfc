"""What every figure shares: a scratch database of each kind, isolated measurements, the result row.

The gunicorn server the HTTP figures run under is in bench/servers.py.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/test"))
PG_SCHEMA = "bench"  # prefix: each run works in bench_<pid>, so concurrent runs cannot drop each other's data
# The business date every figure runs on, so registration and claim windows do not drift with the clock.
TODAY = date(2026, 3, 31)
PROGRAM = "sz-sme-pool"
BANKS = ("BANK_A", "BANK_B", "BANK_C", "BANK_D")


@dataclass
class Result:
    """One row of the table: our figure, the floor's, and whether the goal is met."""

    figure: str
    database: str
    unit: str
    ours: float
    floor: float
    higher_is_better: bool
    goal: str
    peak_ours_mib: float | None = None
    peak_floor_mib: float | None = None
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        """How many times the floor's cost ours is (1.0 = as fast as the floor; higher is worse)."""
        if self.higher_is_better:
            return self.floor / self.ours if self.ours else float("inf")
        return self.ours / self.floor if self.floor else float("inf")


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB."""
    # VmHWM belongs to the address space, which exec replaces; ru_maxrss survives exec, so a spawned
    # child would report at least the parent's size at the fork (Linux keeps it in the signal struct).
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _isolated_child(target, args, conn) -> None:
    try:
        value = target(*args)
        conn.send(("ok", value, peak_rss_mib()))
    except BaseException as exc:  # noqa: BLE001 - the parent re-raises it with the child's message
        import traceback

        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", peak_rss_mib()))
    finally:
        conn.close()


def isolated(target, *args):
    """Run target(*args) in a fresh interpreter (spawned, so no inherited memory): (its value, its peak RSS MiB)."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_isolated_child, args=(target, args, send))
    process.start()
    send.close()
    status, value, peak = receive.recv()
    process.join()
    if status != "ok":
        raise RuntimeError(f"{getattr(target, '__name__', target)} failed in its child process:\n{value}")
    return value, peak


class BenchDatabase:
    """A migrated, seeded scratch database: a SQLite file, or a `bench_<pid>` schema in PostgreSQL (dropped after)."""

    def __init__(self, kind: str, workdir: Path):
        self.kind = kind
        self.workdir = workdir
        self.schema = f"{PG_SCHEMA}_{os.getpid()}"
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            sep = "&" if "?" in PG_URL else "?"
            self.url = f"{PG_URL}{sep}options=-csearch_path%3D{self.schema}"
        self.data_dir = workdir / "var"

    def __enter__(self) -> "BenchDatabase":
        self.reset()
        return self

    def __exit__(self, *_exc) -> None:
        self.drop()

    def reset(self) -> None:
        """Drop whatever is there, migrate to head and load the seeds, demo keys and admissions."""
        from claims.migrate import upgrade

        self.drop()
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.kind == "postgres":
            admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
        upgrade(self.url)
        self._seed()

    def drop(self) -> None:
        """Remove the database (the schema on PostgreSQL, the files on SQLite)."""
        if self.kind == "postgres":
            admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.workdir / "bench.db") + suffix).unlink(missing_ok=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def settings(self):
        """Test settings pointed at this database."""
        from claims.audit import configure_key
        from claims.settings import load_settings

        settings = load_settings("test").with_overrides(database_url=self.url, data_dir=self.data_dir)
        configure_key(settings.audit_key)  # set-up writes audited rows outside any app (create_app would set it)
        return settings

    def env(self) -> dict[str, str]:
        """Environment for a server process on this database (read by bench/wsgi.py)."""
        return {**os.environ, "CLAIMS_ENV": "test", "DATABASE_URL": self.url, "CLAIMS_DATA_DIR": str(self.data_dir),
                "BENCH_TODAY": TODAY.isoformat(), "PYTHONPATH": str(ROOT)}

    def engine(self):
        """A fresh engine on this database (dispose it when done)."""
        from claims.db import make_engine

        return make_engine(self.url)

    def _seed(self) -> None:
        from claims.db import make_engine, make_session_factory, unit_of_work
        from claims.services import seeding
        from workflows.rules import load_programs

        settings = self.settings()
        engine = make_engine(self.url)
        registry = load_programs(settings.programs_dir)
        report = seeding.SeedReport()
        with unit_of_work(make_session_factory(engine)) as session:
            seeding.load_reference_data(session, report)
            seeding.sync_programs(session, registry, report)
            seeding.load_demo_access(session, report)
            seeding.load_demo_admissions(session, report)
            seeding.record_seeding(session, report)
        engine.dispose()
        self.keys = report.demo_keys

    def analyze(self) -> None:
        """After a bulk set-up load, leave the tables as autovacuum would: VACUUM ANALYZE (ANALYZE on SQLite)."""
        engine = self.engine()
        if self.kind == "postgres":
            # Without VACUUM a freshly copied table has no visibility map (no index-only scans) and every
            # first read rewrites hint bits; a table that grew over years has neither problem.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        engine.dispose()


def reference_ids(engine) -> dict:
    """Ids the set-up loaders need: institutions by code, enterprises, the program's rule version, staff."""
    with engine.connect() as conn:
        institutions = dict(conn.execute(sa.text("SELECT code, id FROM institution")).all())
        enterprises = [row[0] for row in conn.execute(sa.text(
            "SELECT id FROM enterprise ORDER BY id")).all()]
        usccs = dict(conn.execute(sa.text("SELECT uscc, id FROM enterprise")).all())
        rule_version = conn.execute(sa.text(
            "SELECT id FROM rule_version WHERE program_code = :p ORDER BY effective_from DESC LIMIT 1"),
            {"p": PROGRAM}).scalar_one()
        programs = [row[0] for row in conn.execute(sa.text("SELECT code FROM program ORDER BY code")).all()]
        rule_versions = dict(conn.execute(sa.text(
            "SELECT program_code, max(id) FROM rule_version GROUP BY program_code")).all())
    return {"institutions": institutions, "enterprises": enterprises, "usccs": usccs, "rule_version": rule_version,
            "programs": programs, "rule_versions": rule_versions}


def insert_defaulted_loans(engine, count: int, *, banks=BANKS, prefix: str = "BENCH") -> dict[str, list[int]]:
    """Set-up, not measured: count non-performing loans spread over the banks; their ids by bank code."""
    ids = reference_ids(engine)
    now = datetime(2026, 3, 1)
    rows = []
    for i in range(count):
        bank = banks[i % len(banks)]
        rows.append({
            "institution_id": ids["institutions"][bank], "program_code": PROGRAM,
            "rule_version_id": ids["rule_version"], "enterprise_id": ids["enterprises"][i % len(ids["enterprises"])],
            "contract_no": f"{prefix}-{i:07d}", "principal_fen": 100_000_000 + (i % 997) * 1_000_00,
            "disbursed_on": date(2025, 6, 1), "maturity_on": date(2026, 5, 31), "annual_rate": "0.0435",
            "security_type": "unsecured", "unsecured_share": "1", "first_loan": i % 7 == 0, "policy_tool": False,
            "attributes": {"borrower_kind": "enterprise"}, "status": "non_performing", "days_overdue": 120,
            "status_on": date(2026, 3, 1), "created_at": now,
        })
    from claims.models import Loan

    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(Loan), rows[start:start + 5000])
        found = conn.execute(sa.text("SELECT i.code, l.id FROM loan l JOIN institution i ON i.id = l.institution_id "
                                     "WHERE l.contract_no LIKE :p ORDER BY l.id"), {"p": f"{prefix}-%"}).all()
    by_bank: dict[str, list[int]] = {bank: [] for bank in banks}
    for code, loan_id in found:
        by_bank[code].append(loan_id)
    return by_bank


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def synthetic_uscc(n: int) -> str:
    """A valid (GB 32100 check character) but fictional USCC for firm number n."""
    from stdnum.cn import uscc as stdnum_uscc

    body, digits = "", n
    for _ in range(7):
        digits, rest = divmod(digits, len(USCC_ALPHABET))
        body = USCC_ALPHABET[rest] + body
    code = "91440300MA" + body
    return code + stdnum_uscc.calc_check_digit(code)


def insert_firms(engine, count: int) -> None:
    """Set-up, not measured: count fictional small firms, so files name many borrowers, not the 50 seeded ones."""
    from claims.models import Enterprise

    now = datetime(2026, 1, 1)
    rows = [{"uscc": synthetic_uscc(1_000 + i), "name": f"深圳市示例基准{i:05d}科技有限公司", "size": "small",
             "annual_revenue_fen": 1_000_000_00 + i * 10_000, "district": "深圳市南山区", "industry": "软件和信息技术服务",
             "created_at": now} for i in range(count)]
    with engine.begin() as conn:
        conn.execute(sa.insert(Enterprise), rows)


def scratch_dir() -> Path:
    """A temporary directory for one run's databases, files and logs."""
    return Path(tempfile.mkdtemp(prefix="claims-bench-"))
