"""Reconcile N releases against N events from already-built models: time and memory.

About a third of the events link to a release (by property, issue key or title pattern)
and about a tenth of the releases diverge. Times are medians of several runs; memory is
the peak of what reconcile allocates (tracemalloc, separate run) and the process peak RSS.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import resource
import statistics
import time
import tracemalloc
from zoneinfo import ZoneInfo

from models.event import LaunchEvent
from models.plan import Plan
from models.policy import Policy
from models.reconcile import reconcile
from models.release import Release, ReleaseKind

TODAY = dt.date(2026, 11, 23)
ZONE = ZoneInfo("America/Los_Angeles")
COMMAND = "./dev bench reconcile"


def build(n: int, seed: int = 7) -> tuple[list[Release], list[LaunchEvent]]:
    """n releases and n events; a third of events linked, about a tenth diverging."""
    rnd = random.Random(seed)
    releases = [_release(i, rnd) for i in range(n)]
    # Linked events cover the releases that need a launch first, as a real calendar would.
    soon = TODAY + dt.timedelta(days=90)

    def needs_launch_last(i: int) -> bool:
        date = releases[i].date
        return releases[i].released or date is None or date > soon

    needy = sorted(range(n), key=needs_launch_last)
    events = []
    for i in range(n):
        if i % 3:
            start = TODAY + dt.timedelta(days=rnd.randint(0, 365))
            events.append(
                LaunchEvent(
                    source="google",
                    calendar_id="cal",
                    id=f"e{i}",
                    title=f"Team event {i}",
                    start=start,
                )
            )
            continue
        target = releases[needy[(i // 3) % n]]
        slipped = rnd.random() < 0.25
        start = (target.date or TODAY) + dt.timedelta(days=rnd.choice((-3, 2, 5)) if slipped else 0)
        by_key = target.kind is ReleaseKind.ISSUE
        title = f"[{target.id}] launch" if by_key else f"{target.project} {target.name} blog"
        props = {"jiraVersionId": target.id} if i % 2 and not by_key else {}
        events.append(
            LaunchEvent(
                source="google",
                calendar_id="cal",
                id=f"e{i}",
                title=title,
                start=start,
                properties=props,
            )
        )
    return releases, events


def _release(i: int, rnd: random.Random) -> Release:
    day = TODAY + dt.timedelta(days=rnd.randint(-10, 400))
    project = f"P{i % 50}"
    if i % 4 == 0:
        return Release(
            kind=ReleaseKind.ISSUE,
            id=f"{project}-{i}",
            key=f"{project}-{i}",
            name=f"Feature {i}",
            project=project,
            date=day,
            released=day < TODAY and rnd.random() < 0.8,
        )
    return Release(
        kind=ReleaseKind.VERSION,
        id=str(i),
        key=project,
        name=f"{i}.0",
        project=project,
        date=day,
        released=day < TODAY and rnd.random() < 0.8,
    )


def _reconcile(releases: list[Release], events: list[LaunchEvent]) -> Plan:
    return reconcile(
        releases,
        events,
        Policy(),
        today=TODAY,
        business_zone=ZONE,
        generated_at=dt.datetime(2026, 11, 23, tzinfo=dt.UTC),
    )


def measure(n: int, runs: int) -> dict[str, float]:
    """Median, fastest and slowest seconds, tracemalloc peak MB and divergence count."""
    releases, events = build(n)
    times = []
    plan = _reconcile(releases, events)
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        _reconcile(releases, events)
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    _reconcile(releases, events)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "seconds": statistics.median(times),
        "fastest": min(times),
        "slowest": max(times),
        "peak_mb": peak / 2**20,
        "divergences": len(plan.divergences),
    }


def run(quick: bool) -> str:
    """The markdown section: 100k vs 10k (or 10k vs 1k when quick)."""
    big = 10_000 if quick else 100_000
    small, runs = big // 10, 3 if quick else 7
    a, b = measure(small, runs), measure(big, runs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = b["seconds"] / a["seconds"]
    return "\n".join(
        [
            f"## Reconcile {big:,} releases x {big:,} events\n",
            f"Command: `{COMMAND}`{' --quick' if quick else ''}. Median of {runs} runs, models "
            "built beforehand; the same run measures the 10x smaller baseline.\n",
            "| items each side | divergences | median time | fastest - slowest | peak alloc |",
            "|---:|---:|---:|---:|---:|",
            _row(small, a),
            _row(big, b),
            "",
            f"- {big:,} vs {small:,}: {ratio:.1f}x the time for 10x the items (linear is 10x).",
            f"- Process peak RSS, models included: {rss:.0f} MB. Targets: < 1 s, < 500 MB.",
            "",
        ]
    )


def _row(n: int, m: dict[str, float]) -> str:
    spread = f"{m['fastest']:.3f} - {m['slowest']:.3f} s"
    return (
        f"| {n:,} | {m['divergences']:,.0f} | {m['seconds']:.3f} s | {spread} "
        f"| {m['peak_mb']:.0f} MB |"
    )
