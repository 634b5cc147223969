"""Google Calendar connector against the emulator over a socket: requests and time.

A full read of N events (one calendar) must take ceil(N / 2500) requests, the largest page
the API gives; an incremental read with nothing changed must take one request per calendar.
Requests are counted from the emulator's FaultInjector log, not from the client.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time
from typing import Any

from connectors.google_auth import GoogleCalendarSettings
from connectors.google_calendar import GoogleCalendarSource
from sandbox.google_calendar import CalendarSandbox
from sandbox.server import ServedApp

COMMAND = "./dev bench google"
MAIN, SIDE = "marketing@example.com", ("events@example.com", "webinars@example.com")


def _events(count: int, prefix: str) -> list[dict[str, Any]]:
    first = dt.date(2026, 1, 1)
    return [
        {
            "kind": "calendar#event",
            "id": f"{prefix}{i:06d}",
            "status": "confirmed",
            "summary": f"Launch {i}",
            "extendedProperties": {"private": {"jiraVersionId": str(10_000 + i % 500)}},
            "start": {"date": (first + dt.timedelta(days=i % 365)).isoformat()},
            "end": {"date": (first + dt.timedelta(days=i % 365 + 1)).isoformat()},
        }
        for i in range(count)
    ]


def measure(n: int, runs: int) -> dict[str, float]:
    """Median seconds and request counts of a full and a no-change incremental read."""
    calendars = {MAIN: _events(n, "e"), **{cid: _events(50, "s") for cid in SIDE}}
    sandbox = CalendarSandbox(calendars)
    with ServedApp(sandbox.app) as served:
        endpoint = f"{served.url}/calendar/v3/"
        full_source = GoogleCalendarSource(GoogleCalendarSettings((MAIN,), api_endpoint=endpoint))
        all_source = GoogleCalendarSource(
            GoogleCalendarSettings((MAIN, *SIDE), api_endpoint=endpoint)
        )
        full_times, delta_times = [], []
        for _ in range(runs):
            sandbox.faults.requests.clear()
            start = time.perf_counter()
            batch = full_source.events()
            full_times.append(time.perf_counter() - start)
            full_requests = len(sandbox.faults.requests)
        cursor = all_source.events().cursor
        for _ in range(runs):
            sandbox.faults.requests.clear()
            start = time.perf_counter()
            delta = all_source.events(cursor)
            delta_times.append(time.perf_counter() - start)
            delta_requests = len(sandbox.faults.requests)
    assert len(batch.items) == n and not delta.items
    return {
        "full_seconds": statistics.median(full_times),
        "full_requests": full_requests,
        "delta_seconds": statistics.median(delta_times),
        "delta_requests": delta_requests,
    }


def run(quick: bool) -> str:
    """The markdown section: 20,000 events (2,000 when quick)."""
    n, runs = (2_000, 2) if quick else (20_000, 3)
    m = measure(n, runs)
    expected = math.ceil(n / 2500)
    calendars = 1 + len(SIDE)
    rate = n / m["full_seconds"]
    return "\n".join(
        [
            f"## Google Calendar: full read of {n:,} events, incremental read of nothing\n",
            f"Command: `{COMMAND}{' --quick' if quick else ''}`. google-api-python-client "
            "through `GoogleCalendarSource` against the emulator on a loopback socket; median "
            f"of {runs} runs; requests counted by the emulator.\n",
            "| read | calendars | requests | expected | median time |",
            "|---|---:|---:|---:|---:|",
            f"| full, {n:,} events | 1 | {m['full_requests']:.0f} | ceil({n:,}/2500) = "
            f"{expected} | {m['full_seconds']:.2f} s |",
            f"| incremental, nothing changed | {calendars} | {m['delta_requests']:.0f} | "
            f"{calendars} (one per calendar) | {m['delta_seconds'] * 1000:.0f} ms |",
            "",
            f"- Full read: {rate:,.0f} events/s, translation to LaunchEvent included.",
            "",
        ]
    )
