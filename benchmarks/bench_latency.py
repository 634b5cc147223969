"""Latency from a Jira date change to the alert e-mail, through every real process.

A Prefect server (PostgreSQL when this machine's answers, else SQLite), the Jira and Google
sandboxes, an SMTP outbox, `launchsync serve` and `launchsync webhooks` run as on a team's
machine; the Jira sandbox sends signed webhooks to the receiver. Each change moves ATL 2.1's
release date one day later, so each one is a new critical divergence worth an alert; the
next change waits until the run it started has finished.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import math
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from deployments.warm_start import SWITCH
from sandbox.demo_seed import CALENDAR_ID, demo_config, write_demo_seed
from sandbox.outbox import Outbox
from sandbox.processes import Process, launchsync_process, prefect_server, wait_until
from sandbox.run import RunningSandboxes, running_sandboxes
from sandbox.server import free_port

CHANGES, QUICK_CHANGES = 50, 5
TARGET_P95 = 5.0
SECRET = "whsec-latency-bench"
PG_ADMIN_URL = os.environ.get(
    "LAUNCHSYNC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FLOW = "sync-launch-calendar"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass(frozen=True)
class Sample:
    """One change and when each step after it happened (seconds after the change)."""

    run_created: float
    run_started: float
    alerted: float


def run(quick: bool) -> str:
    """Make the changes, one at a time, and report the change-to-alert percentiles.

    The same run first measures the baseline: served runs started by Prefect's own spawn.
    """
    count = QUICK_CHANGES if quick else CHANGES
    load_before = os.getloadavg()[0]
    measured: dict[str, list[Sample]] = {}
    for label, warm in (("spawn (Prefect's default)", "0"), ("warm start (forkserver)", "1")):
        with tempfile.TemporaryDirectory(prefix="launchsync-latency-") as tmp:
            measured[label], database = _measure(Path(tmp), count, {SWITCH: warm})
    # Every step here is process start-up and I/O: figures move with the machine's load.
    load = f"1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    return _report(measured, database) + f"- {load}.\n"


def _measure(workdir: Path, count: int, serve_env: dict[str, str]) -> tuple[list[Sample], str]:
    write_demo_seed(workdir / "seed", dt.date.today())
    with ExitStack() as stack:
        database = stack.enter_context(_postgres_database())
        server = stack.enter_context(prefect_server(workdir, database))
        api = stack.enter_context(httpx.Client(base_url=server.api, timeout=10))
        boxes = stack.enter_context(running_sandboxes(workdir / "seed"))
        outbox = stack.enter_context(Outbox(workdir / "outbox"))
        config, port = _write_config(workdir, boxes, outbox)
        env = {**server.env(workdir / "client-home"), "LS_JIRA_WEBHOOK_SECRET": SECRET}
        # A schedule that never comes round: only the measured changes start runs.
        argv = ["serve", "--config", str(config), "--cron", "0 0 1 1 *"]
        serve_process = launchsync_process("serve", argv, {**env, **serve_env}, workdir)
        serve = stack.enter_context(serve_process)
        hooks_argv = ["webhooks", "--config", str(config)]
        hooks = stack.enter_context(launchsync_process("webhooks", hooks_argv, env, workdir))
        processes = (server.process, serve, hooks)
        on_change = wait_until(
            "the on-change deployment", lambda: _deployment(api, "on-change"), 120, 0.5, processes
        )
        wait_until(
            "the receiver", lambda: _up(f"http://127.0.0.1:{port}/healthz"), 60, 0.5, processes
        )
        _first_sync(api, processes)
        boxes.jira.register_webhook(
            f"http://127.0.0.1:{port}/webhooks/jira", SECRET, ["jira:version_updated"]
        )
        version_id, start = _version(boxes, "ATL", "2.1")
        samples = [
            _one_change(api, boxes, outbox, on_change["id"], version_id, start + dt.timedelta(i))
            for i in range(1, count + 1)
        ]
        return samples, "PostgreSQL" if database else "SQLite"


def _one_change(
    api: httpx.Client,
    boxes: RunningSandboxes,
    outbox: Outbox,
    deployment_id: str,
    version_id: str,
    new_date: dt.date,
) -> Sample:
    before = {p.name for p in outbox.messages()}
    known = {r["id"] for r in _runs(api, deployment_id)}
    changed_at = time.time()
    boxes.jira.move_version(version_id, new_date)

    def new_alert() -> float | None:
        for path in outbox.messages():
            if path.name not in before and "Atlas 2.1 " in _subject(path):
                return time.time()
        return None

    alerted = wait_until(f"the alert for {new_date}", new_alert, 120, 0.02)

    def new_run() -> dict[str, Any] | None:
        runs = [r for r in _runs(api, deployment_id) if r["id"] not in known]
        return runs[0] if len(runs) == 1 else None

    created = wait_until("the one on-change run of this change", new_run, 30, 0.1)
    finished = wait_until(  # the next change must not queue behind this run
        "the run to finish", lambda: _final(api, created["id"]), 120, 0.2
    )
    return Sample(
        _epoch(created["created"]) - changed_at,
        _epoch(finished["start_time"]) - changed_at,
        alerted - changed_at,
    )


def _report(measured: dict[str, list[Sample]], database: str) -> str:
    rows, percentiles = [], []
    for label, samples in measured.items():
        alerted = sorted(s.alerted for s in samples)
        p50, p95 = statistics.median(alerted), _nearest_rank(alerted, 0.95)
        percentiles.append((p50, p95))
        created = statistics.median(s.run_created for s in samples)
        started = statistics.median(s.run_started for s in samples)
        verdict = "met" if p95 < TARGET_P95 else "NOT met"
        rows.append(
            f"| {label} | {len(samples)} | {created:.2f} s | {started:.2f} s | {p50:.2f} s | "
            f"{p95:.2f} s | {alerted[-1]:.2f} s | < {TARGET_P95:.0f} s: {verdict} |"
        )
    (base50, base95), (warm50, warm95) = percentiles
    return (
        "## Latency: Jira date change to alert e-mail\n\n"
        "Command: `./dev bench latency`. Real processes: `prefect server start` "
        f"({database}), `launchsync serve` (Runner polling every 1 s), `launchsync webhooks` "
        "(bursts coalesce for 0.5 s), the Jira sandbox sending signed webhooks, an SMTP "
        "outbox. One change at a time; each waits for its alert and its run to finish. "
        "The same run measures the baseline first (`LAUNCHSYNC_WARM_START=0`).\n\n"
        "| served runs start by | changes | run created | run started | p50 alert | "
        "p95 alert | max | target p95 |\n"
        "|---|---:|---:|---:|---:|---:|---:|---|\n" + "\n".join(rows) + "\n\n"
        f"- Warm start vs spawn: p50 {warm50 / base50:.2f}x, p95 {warm95 / base95:.2f}x "
        "(lower is faster).\n"
        "- Medians after the change: run created (webhook, coalescing, event, trigger), run "
        "started (Runner poll, flow-run process start), alert (the sync itself).\n"
    )


def _nearest_rank(ordered: list[float], fraction: float) -> float:
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _write_config(workdir: Path, boxes: RunningSandboxes, outbox: Outbox) -> tuple[Path, int]:
    calendar = {
        "kind": "google",
        "calendar_ids": [CALENDAR_ID],
        "api_endpoint": boxes.google_endpoint,
    }
    data = demo_config(boxes.jira_url, calendar, f"sqlite:///{workdir / 'state.db'}")
    port = free_port()
    data["alerts"] = {"smtp": outbox.url, "operators": ["ops@launchsync.example"]}
    data["webhooks"] = {"jira_secret": "${LS_JIRA_WEBHOOK_SECRET}", "port": port}
    path = workdir / "launchsync.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path, port


def _first_sync(api: httpx.Client, processes: tuple[Process, ...]) -> None:
    """A full sync first, so the changes measure the steady state, not the first read."""
    deployment = _deployment(api, "nightly-full")
    assert deployment is not None
    response = api.post(f"/deployments/{deployment['id']}/create_flow_run", json={})
    response.raise_for_status()
    run_id = response.json()["id"]
    run = wait_until("the first sync", lambda: _final(api, run_id), 180, 0.5, processes)
    if run["state"]["type"] != "COMPLETED":
        raise RuntimeError(f"the first sync ended {run['state']['type']}")


def _version(boxes: RunningSandboxes, project: str, name: str) -> tuple[str, dt.date]:
    project_id = next(str(p["id"]) for p in boxes.seed["projects"] if p["key"] == project)
    for version_id, version in boxes.jira.versions.items():
        if version.get("name") == name and str(version.get("projectId")) == project_id:
            return str(version_id), dt.date.fromisoformat(version["releaseDate"])
    raise LookupError(f"the demo seed has no version {project} {name}")


def _deployment(api: httpx.Client, name: str) -> dict[str, Any] | None:
    response = api.get(f"/deployments/name/{FLOW}/{name}")
    return response.json() if response.status_code == 200 else None


def _runs(api: httpx.Client, deployment_id: str) -> list[dict[str, Any]]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 200}
    response = api.post("/flow_runs/filter", json=body)
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


def _final(api: httpx.Client, run_id: str) -> dict[str, Any] | None:
    response = api.get(f"/flow_runs/{run_id}")
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found if (found.get("state") or {}).get("type") in FINAL else None


def _subject(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return str(message["Subject"] or "")


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp).timestamp()


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def _postgres_database() -> Iterator[str | None]:
    """A fresh database on this machine's PostgreSQL, dropped afterwards; None without one."""
    admin = create_engine(
        PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"launchsync_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created = True
    except Exception:  # no PostgreSQL here: the Prefect server falls back to SQLite
        created = False
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(False) if created else None
    finally:
        if created:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
