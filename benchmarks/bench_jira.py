"""Read N versions and N issues from the Jira emulator through the connector.

Counts the HTTP requests the emulator answered (its FaultInjector log) against the page
math — ceil(N / page size) per project and per JQL, plus a constant for the client's own
lookups (serverInfo, the field list, the user's time zone) — and times the full read and
an incremental read with nothing changed, which must cost one request per project or JQL.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

from connectors.jira import JiraReleaseSource
from connectors.jira_settings import SEARCH_PAGE_SIZE, VERSION_PAGE_SIZE, JiraSettings
from sandbox.jira import JiraSandbox
from sandbox.server import ServedApp

COMMAND = "./dev bench jira"
CONSTANT = 3  # serverInfo, /field (the client's name cache), /myself (once, for the watermark zone)


def seed(n: int, deployment: str) -> dict[str, Any]:
    """One project with n versions and n issues updated a minute apart."""
    first = dt.date(2026, 1, 1)
    touched = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    versions = [
        {
            "id": str(30000 + i),
            "name": f"1.{i}",
            "released": False,
            "archived": False,
            "releaseDate": (first + dt.timedelta(days=i % 365)).isoformat(),
        }
        for i in range(n)
    ]
    issues = [
        {
            "id": str(50000 + i),
            "key": f"PROJ-{i + 1}",
            "fields": {
                "summary": f"Feature {i}",
                "labels": ["launch"],
                "project": {"key": "PROJ"},
                "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                "duedate": (first + dt.timedelta(days=i % 365)).isoformat(),
                "updated": (touched + dt.timedelta(minutes=i)).strftime(
                    "%Y-%m-%dT%H:%M:%S.000+0000"
                ),
            },
        }
        for i in range(n)
    ]
    project = {"key": "PROJ", "id": "10000", "name": "Project", "versions": versions}
    return {"deployment": deployment, "projects": [project], "issues": issues}


def measure(n: int, deployment: str) -> list[str]:
    """Table rows: full read, first incremental read, steady incremental read."""
    sandbox = JiraSandbox(seed(n, deployment))
    rows = []
    with ServedApp(sandbox.app) as served:
        settings = JiraSettings(url=served.url, projects=("PROJ",), issue_jql="labels = launch")
        source = JiraReleaseSource(settings)
        bound = math.ceil(n / VERSION_PAGE_SIZE) + math.ceil(n / SEARCH_PAGE_SIZE) + CONSTANT
        runs = [
            ("full read", None, bound),
            ("incremental, first", "cursor", 2 + 1),
            ("incremental, nothing changed", "cursor", 2),
        ]
        cursor: dict[str, str] | None = None
        for label, use_cursor, limit in runs:
            sandbox.faults.requests.clear()
            started = time.perf_counter()
            batch = source.releases(cursor if use_cursor else None)
            seconds = time.perf_counter() - started
            cursor = dict(batch.cursor) if cursor is None else cursor
            count = len(sandbox.faults.requests)
            verdict = "ok" if count <= limit else "OVER"
            rows.append(
                f"| {deployment} | {label} | {n:,} + {n:,} | {len(batch.items):,} | "
                f"{count} | ≤ {limit} | {verdict} | {seconds:.2f} |"
            )
        # What a scheduled run pays: a new process builds a new client, which sets up again.
        sandbox.faults.requests.clear()
        started = time.perf_counter()
        batch = JiraReleaseSource(settings).releases(cursor)
        seconds = time.perf_counter() - started
        # + the project lead, looked up once per source when an unassigned item is read
        count, limit = len(sandbox.faults.requests), 2 + CONSTANT + 1
        rows.append(
            f"| {deployment} | incremental, nothing changed, new process | {n:,} + {n:,} | "
            f"{len(batch.items):,} | {count} | ≤ {limit} | "
            f"{'ok' if count <= limit else 'OVER'} | {seconds:.2f} |"
        )
    return rows


def run(quick: bool) -> str:
    """The markdown section for results.md."""
    n = 1_000 if quick else 10_000
    rows = [row for deployment in ("Cloud", "Server") for row in measure(n, deployment)]
    command = COMMAND + (" --quick" if quick else "")
    return "\n".join(
        [
            "## Jira: full and incremental reads against the emulator",
            "",
            f"`{command}` — versions page by {VERSION_PAGE_SIZE} (`/project/{{key}}/version`), "
            f"issues by {SEARCH_PAGE_SIZE} (Cloud `search/jql` tokens, Server `search` offsets). "
            f"Bound = ceil(n/{VERSION_PAGE_SIZE}) + ceil(n/{SEARCH_PAGE_SIZE}) + {CONSTANT} "
            "for a full read; one request per project and per JQL for an incremental read "
            "(+1 the first time, for the user's time zone). Items of an incremental read are "
            "the changed ones plus the issues of the watermark's minute (JQL dates have "
            "minute precision). Every flow run is a new process with a new client: it adds "
            f"the client's {CONSTANT} set-up requests and one project-lead lookup (owners of "
            "unassigned items), whatever the number of items.",
            "",
            "| deployment | read | versions + issues | items | requests | bound | | seconds |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )


if __name__ == "__main__":
    print(run(quick=True))
