"""Run every benchmark figure on SQLite and PostgreSQL and print the table (ours, floor, ratio, peak RSS, goal).

    .venv/bin/python -m bench              # full sizes, ~10 minutes on 2 cores
    .venv/bin/python -m bench --quick      # smaller sizes, ~3 minutes
    .venv/bin/python -m bench --smoke      # tiny sizes: every figure still runs (the suite does this on SQLite)
    .venv/bin/python -m bench --only 2,5 --db postgres
    .venv/bin/python -m bench --only 4 --institutions 400   # figure 4 at ~200 000 lines

PostgreSQL comes from BENCH_POSTGRES_URL (else TEST_POSTGRES_URL, else 127.0.0.1:5432/test); the
benchmark creates and drops its own schema `bench_<pid>` there. Each figure's ours and floor run back to back
in the same run, so the ratio holds on a busy machine even when the absolute numbers do not.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time

from bench import bulk, console, engine, intake, queue, simulation, statements
from bench.common import BenchDatabase, Result, scratch_dir

FULL = {"intake_seconds": 10, "intake_loans": 20_000, "bulk_rows": 100_000, "engine_claims": 100_000,
        "institutions": 100, "queue_claims": 1_000_000, "queue_rounds": 30, "console_claims": 100_000,
        "console_rounds": 20, "simulation_claims": 1_000_000}
QUICK = {"intake_seconds": 4, "intake_loans": 8_000, "bulk_rows": 20_000, "engine_claims": 20_000,
         "institutions": 10, "queue_claims": 100_000, "queue_rounds": 15, "console_claims": 20_000,
         "console_rounds": 8, "simulation_claims": 20_000}
# Only that every figure still runs (the suite's tests/integration/test_bench_runs.py): no figure is meaningful here.
SMOKE = {"intake_seconds": 1, "intake_loans": 400, "bulk_rows": 500, "engine_claims": 500, "institutions": 2,
         "queue_claims": 10_000, "queue_rounds": 2, "console_claims": 500, "console_rounds": 1,
         "simulation_claims": 500}


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_table(results: list[Result]) -> None:
    """The comparison table; ratio is ours' cost in multiples of the floor's (lower is better)."""
    print()
    print(f"{'figure':<24}{'db':<10}{'unit':<10}{'ours':>11}{'floor':>11}{'ratio':>8}  {'peak MiB ours/floor':<20}"
          f"{'goal':<22}{'met':<4}")
    for r in results:
        print(f"{r.figure:<24}{r.database:<10}{r.unit:<10}{r.ours:>11,.1f}{r.floor:>11,.1f}{r.ratio:>8.2f}  "
              f"{_mib(r.peak_ours_mib) + ' / ' + _mib(r.peak_floor_mib):<20}{r.goal:<22}{'yes' if r.met else 'NO':<4}")
    print()
    for r in results:
        print(f"  {r.figure} [{r.database}]: {r.note}")


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the chosen figures and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a quick look, not the goals' sizes)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: only that every figure runs")
    parser.add_argument("--only", default="1,2,3,4,5,6,7", help="comma-separated figure numbers")
    parser.add_argument("--simulation-claims", type=int, help="figure 7's stored claims (1,000,000 at full size)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--institutions", type=int, help="figure 4's institutions (about 500 lines each; "
                        "100 gives ~50 000 lines, 400 ~200 000)")
    parser.add_argument("--rounds", type=int, default=2, help="figure 4's alternating rounds (best of them counts)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (logs, files)")
    args = parser.parse_args(argv)
    sizes = dict(SMOKE if args.smoke else QUICK if args.quick else FULL)
    if args.institutions:
        sizes["institutions"] = args.institutions
    if args.simulation_claims:
        sizes["simulation_claims"] = args.simulation_claims
    figures = {int(f) for f in args.only.split(",")}
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    workdir = scratch_dir()
    results: list[Result] = []
    began = time.monotonic()

    def step(label: str) -> None:
        print(f"[{time.monotonic() - began:6.0f} s] {label}", file=sys.stderr, flush=True)

    try:
        for kind in kinds:
            if figures & {1, 2, 4, 5, 6, 7}:
                for number, label in ((1, "claim intake"), (2, "bulk registration"), (4, "statement run"),
                                      (5, "review queue"), (6, "console pages"), (7, "what-if simulation")):
                    if number not in figures:
                        continue
                    step(f"{kind}: figure {number}, {label}")
                    with BenchDatabase(kind, workdir / kind) as db:
                        if number == 1:
                            results.append(intake.run(db, seconds=sizes["intake_seconds"], loans=sizes["intake_loans"],
                                                      log_dir=workdir))
                        elif number == 2:
                            result, detail = bulk.run(db, rows=sizes["bulk_rows"], workdir=workdir, log_dir=workdir)
                            results.append(result)
                        elif number == 4:
                            results.append(statements.run(db, institutions=sizes["institutions"], rounds=args.rounds))
                        elif number == 5:
                            results.append(queue.run(db, claims=sizes["queue_claims"], rounds=sizes["queue_rounds"]))
                        elif number == 6:
                            results.append(console.run(db, claims=sizes["console_claims"],
                                                       rounds=sizes["console_rounds"]))
                        else:
                            results.append(simulation.run(db, claims=sizes["simulation_claims"]))
        if 3 in figures:
            step("figure 3, compensation engine")
            results.append(engine.run(count=sizes["engine_claims"]))
    finally:
        if args.keep:
            print(f"scratch directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    step("done")
    results.sort(key=lambda r: (r.figure, r.database))
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
