"""Reliability under chaos: many seeded runs of the real sync with faults and crashes.

    python -m benchmarks.chaos --runs 200 [--seed 1]   # writes the `chaos` section
    python benchmarks/chaos.py --runs 200              # the same, as a script
    python -m benchmarks.chaos --runs 40 --postgres postgresql+psycopg://postgres@127.0.0.1/test
                                     # state in PostgreSQL: the `chaos_postgresql` section
    ./dev bench chaos                                  # the same, 40 runs (--quick: 10)

Runs go in schedules of `--per-schedule` runs, each in a fresh world (`sandbox.chaos`):
mutate Jira and the calendar, arm seeded faults in both emulators, maybe kill the sync
process at a side-effect boundary, check the invariants; then one clean run per schedule.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

if not __package__:
    # Run as `python benchmarks/chaos.py`: Python put benchmarks/ on the path, not the
    # repository root that `benchmarks.__main__` (and the project's modules) live under.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Prefect reads its home at import time: keep the benchmark's flow runs out of ~/.prefect.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="launchsync-chaos-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from sandbox.chaos import ScheduleResult, run_schedule, world_in
from sandbox.chaos_world import CLIENT_TIMEOUT, HOLD_SECONDS
from sandbox.databases import postgres_databases

DEFAULT_RUNS, QUICK_RUNS, PER_SCHEDULE = 40, 10, 10
POSTGRES_EXAMPLE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def measure(
    runs: int, seed: int, per_schedule: int = PER_SCHEDULE, postgres: str | None = None
) -> list[ScheduleResult]:
    """`runs` seeded runs in schedules of `per_schedule`, each schedule in a fresh world
    (its state in a SQLite file, or in a new database on the `postgres` server)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    results: list[ScheduleResult] = []
    with prefect_test_harness(server_startup_timeout=120), new_databases(postgres) as new_db:
        api_url = str(PREFECT_API_URL.value())
        for index, start in enumerate(range(0, runs, per_schedule)):
            with (
                tempfile.TemporaryDirectory(prefix="chaos-") as workdir,
                world_in(Path(workdir), new_db(), api_url=api_url) as world,
                world_in(Path(workdir) / "reference", new_db(), api_url=api_url) as reference,
            ):
                count = min(per_schedule, runs - start)
                seeded = seed * 10_000 + index
                result = run_schedule(world, seed=seeded, runs=count, reference=reference)
            results.append(result)
            print(f"schedule {index}: {_line(result)}", flush=True)
    return results


@contextmanager
def new_databases(server: str | None) -> Iterator[Callable[[], str | None]]:
    """`new()` -> the URL of a new, empty database on `server` (None: SQLite); all are
    dropped afterwards."""
    if server is None:
        yield lambda: None
        return
    with postgres_databases(server, "launchsync_chaos_") as databases:
        yield databases.create


def _line(result: ScheduleResult) -> str:
    return (
        f"{len(result.runs)} runs, {sum(result.faults.values())} faults, "
        f"{result.crashes} crashes, dup tickets {result.duplicate_tickets}, "
        f"dup alerts {result.duplicate_alerts}, missed {result.missed}, "
        f"unlike the fault-free run {len(result.unlike_reference)}"
        + "".join(f"\n  {line}" for line in result.unlike_reference)
    )


def table(
    results: list[ScheduleResult], runs: int, seed: int, seconds: float, postgres: bool = False
) -> str:
    """The markdown section for results.md."""
    faults: Counter[str] = Counter()
    for result in results:
        faults.update(result.faults)
    recoveries = [s for result in results for s in result.recoveries]
    failed = sum(run.exit_code not in (0, 86) for result in results for run in result.runs)
    skipped_final = [result.seed for result in results if not result.final.settled]
    unlike = [result.seed for result in results if result.unlike_reference]
    reference_seconds = sum(result.reference_seconds for result in results)
    store = "PostgreSQL" if postgres else "SQLite"
    command = f"python -m benchmarks.chaos --runs {runs} --seed {seed}" + (
        f" --postgres {POSTGRES_EXAMPLE}" if postgres else ""
    )
    rows = [
        "## Chaos: the sync under seeded faults, crashes and concurrent edits"
        + (", state in PostgreSQL" if postgres else ""),
        "",
        f"Command: `{command}` (the full run is "
        "`--runs 200`; `./dev bench chaos` runs 40). Real Jira + Google emulators, real "
        f"`JiraTicketSink`, SMTP notifier and {store} state store; each run a child process "
        "that may `os._exit` at a side-effect boundary; a clean run ends each schedule of "
        f"{PER_SCHEDULE}. Invariants checked after every run. Requests time out after "
        f"{CLIENT_TIMEOUT:.0f} s in these runs (a timeout fault holds one for "
        f"{HOLD_SECONDS:.0f} s); webhook-triggered runs sync what the real receiver "
        "(`deployments/webhooks.py`) accepted from the Jira emulator's deliveries, played "
        "late, shuffled and partly twice; the 410 row counts stale sync tokens the emulator "
        "actually refused. Each schedule's edits and runs are replayed in a second, "
        "fault-free world; at the end both must show users the same open tickets (and what "
        "each last told), calendar, open divergences and alerts about them.",
        "",
        "| runs | schedules | faults hit | crashes | duplicate tickets | duplicate alerts "
        "| missed divergences | lost alerts | runs failed by faults | slowest recovery "
        "| unlike the fault-free run |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {sum(len(r.runs) for r in results)} | {len(results)} | {sum(faults.values())} "
        f"| {sum(r.crashes for r in results)} | {max(r.duplicate_tickets for r in results)} "
        f"| {max(r.duplicate_alerts for r in results)} "
        f"| {sum(len(r.final.missed) for r in results)} "
        f"| {sum(len(r.final.lost_alerts) for r in results)} | {failed} "
        f"| {max(recoveries, default=0.0):.1f} s | {len(unlike)} |",
        "",
        "| fault kind | requests hit |",
        "|---|---:|",
        *(f"| {kind} | {n} |" for kind, n in sorted(faults.items())),
        "",
        "| process killed at | crashes |",
        "|---|---:|",
        *(f"| {where} | {n} |" for where, n in sorted(_crash_points(results).items())),
        "",
        f"- Wall time {seconds:.0f} s; recovery = seconds from the start of the first "
        "disturbed run to the end of the run after which tickets, records and e-mails "
        "equal the reference world again (median "
        f"{sorted(recoveries)[len(recoveries) // 2] if recoveries else 0.0:.1f} s).",
        "- Not settled after the clean final run: "
        + (", ".join(f"seed {s}" for s in skipped_final) or "none"),
        "- Unlike the fault-free run at the end: "
        + (", ".join(f"seed {s}" for s in unlike) or "none")
        + f"; the fault-free worlds took {reference_seconds:.0f} s of the wall time. Alerts "
        "about since-gone states that only the fault-free world sent (a crash or failed "
        "read skipped that state; allowed): "
        f"{sum(r.told_only_without_faults for r in results)}.",
    ]
    return "\n".join(rows) + "\n"


def _crash_points(results: list[ScheduleResult]) -> Counter[str]:
    """How often the process died at each boundary."""
    return Counter(
        run.crash.boundary for result in results for run in result.runs if run.crashed and run.crash
    )


def run(quick: bool) -> str:
    """The `./dev bench chaos` entry: a modest number of runs."""
    runs = QUICK_RUNS if quick else DEFAULT_RUNS
    started = time.monotonic()
    results = measure(runs, seed=1)
    return table(results, runs, 1, time.monotonic() - started)


def main() -> None:
    """`python -m benchmarks.chaos --runs N [--seed S]`: run, then rewrite the section."""
    from benchmarks.__main__ import write_section

    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="seeded runs in all")
    parser.add_argument("--seed", type=int, default=1, help="replays the same schedules")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="keep each world's state in a new database on this PostgreSQL server",
    )
    args = parser.parse_args()
    started = time.monotonic()
    results = measure(args.runs, args.seed, postgres=args.postgres)
    figures = table(
        results, args.runs, args.seed, time.monotonic() - started, postgres=bool(args.postgres)
    )
    write_section("chaos_postgresql" if args.postgres else "chaos", figures)


if __name__ == "__main__":
    main()
