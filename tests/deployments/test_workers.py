"""`launchsync deploy` and two Prefect workers on one work pool: runs spread, act once.

The test starts `prefect server start` (PostgreSQL-backed) on loopback, the Jira and Google
sandboxes with the demo seed, an SMTP outbox, runs `launchsync deploy` as a user would, and
starts two `prefect worker start --pool launchsync` processes, each with its own Prefect
home, as on two machines sharing a PostgreSQL state store. Everything is checked through
the server's HTTP API, the sandbox Jira and the outbox's .eml files.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.cli import main
from sandbox.databases import PostgresDatabases
from sandbox.demo_seed import CALENDAR_ID, demo_config, write_demo_seed
from sandbox.outbox import Outbox
from sandbox.processes import (
    ROOT,
    PrefectServer,
    Process,
    prefect_server,
    prefect_worker,
    wait_until,
)
from sandbox.run import RunningSandboxes, running_sandboxes

FLOW = "sync-launch-calendar"
NAMES = ("scheduled", "nightly-full", "on-change")
POOL = "launchsync"
WORKERS = ("worker-a", "worker-b")
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
EXECUTED = "prefect.worker.executed-flow-run"
# Runs of one deployment queue behind each other; retry a slot every 2 s, not every 30 s.
SERVER_SETTINGS = {"PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "2"}
# Poll every second; one run at a time per worker, so neither can take every run at once
# (and two cores are not shared by more flow-run processes than that).
WORKER_SETTINGS = {"PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "2"}
WORKER_LIMIT = 1


@dataclass(frozen=True)
class Stack:
    """Everything running for this module."""

    server: PrefectServer
    api: httpx.Client
    config: Path
    sandboxes: RunningSandboxes
    outbox: Outbox
    workers: tuple[Process, ...]
    env: dict[str, str]
    workdir: Path

    @property
    def processes(self) -> tuple[Process, ...]:
        return (self.server.process, *self.workers)


def _write_config(
    workdir: Path, sandboxes: RunningSandboxes, outbox: Outbox, state_url: str
) -> Path:
    calendar = {
        "kind": "google",
        "calendar_ids": [CALENDAR_ID],
        "api_endpoint": sandboxes.google_endpoint,
    }
    data = demo_config(sandboxes.jira_url, calendar, state_url)
    data["alerts"] = {"smtp": outbox.url, "operators": ["ops@launchsync.example"]}
    path = workdir / "launchsync.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _launchsync_deploy(
    env: dict[str, str], *argv: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "deploy", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _deployment(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.get(f"/deployments/name/{FLOW}/{name}")
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def _online_workers(api: httpx.Client) -> set[str]:
    body = {"workers": {"status": {"any_": ["ONLINE"]}}}
    response = api.post(f"/work_pools/{POOL}/workers/filter", json=body)
    return {w["name"] for w in response.json()} if response.status_code == 200 else set()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresDatabases) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("workers")
    write_demo_seed(workdir / "seed", dt.date.today())
    with (
        prefect_server(workdir, postgres.create(), settings=SERVER_SETTINGS) as server,
        httpx.Client(base_url=server.api, timeout=10) as api,
        running_sandboxes(workdir / "seed") as sandboxes,
        Outbox(workdir / "outbox") as outbox,
    ):
        # The state store both workers share, as two machines would.
        config = _write_config(workdir, sandboxes, outbox, postgres.create())
        env = {**server.env(workdir / "client-home"), **WORKER_SETTINGS}
        deployed = _launchsync_deploy(env, "--config", str(config))
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        with (
            prefect_worker(WORKERS[0], POOL, env, workdir, WORKER_LIMIT) as first,
            prefect_worker(WORKERS[1], POOL, env, workdir, WORKER_LIMIT) as second,
        ):
            running = Stack(server, api, config, sandboxes, outbox, (first, second), env, workdir)
            wait_until(
                "both workers online",
                lambda: _online_workers(api) >= set(WORKERS),
                60,
                processes=running.processes,
            )
            yield running


def _create_run(stack: Stack, name: str, parameters: dict[str, Any]) -> str:
    deployment_id = _deployment(stack.api, name)["id"]
    response = stack.api.post(
        f"/deployments/{deployment_id}/create_flow_run", json={"parameters": parameters}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _state(stack: Stack, run_id: str) -> str:
    response = stack.api.get(f"/flow_runs/{run_id}")
    response.raise_for_status()
    return str((response.json().get("state") or {}).get("type"))


def _executed_by(stack: Stack, run_ids: list[str]) -> dict[str, list[str]]:
    """Worker names per flow run, from the workers' `executed-flow-run` events."""
    body = {"filter": {"event": {"name": [EXECUTED]}}, "limit": 50}
    response = stack.api.post("/events/filter", json=body)
    response.raise_for_status()
    found: dict[str, list[str]] = {run_id: [] for run_id in run_ids}
    for event in response.json()["events"]:
        for related in event["related"]:
            run_id = related["prefect.resource.id"].removeprefix("prefect.flow-run.")
            if related.get("prefect.resource.role") == "flow-run" and run_id in found:
                found[run_id].append(event["resource"]["prefect.resource.name"])
    return found


def _tickets_by_marker(stack: Stack) -> Counter[str]:
    """launchsync's tickets in the sandbox Jira, counted by their per-divergence marker."""
    markers: Counter[str] = Counter()
    for issue in stack.sandboxes.jira.issues.values():
        labels = issue["fields"].get("labels", [])
        if "launchsync" in labels:
            markers.update(label for label in labels if label.startswith("launchsync-"))
    return markers


def _emails(stack: Stack) -> Counter[tuple[str, str]]:
    """Delivered e-mails counted by (To, Subject)."""
    found: Counter[tuple[str, str]] = Counter()
    for path in stack.outbox.messages():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found[(str(message["To"]), str(message["Subject"]))] += 1
    return found


def test_deploy_registers_the_three_deployments_on_the_process_pool(stack: Stack) -> None:
    pool = stack.api.get(f"/work_pools/{POOL}").json()
    assert pool["type"] == "process", pool
    config = str(stack.config.resolve())
    home = str(stack.config.resolve().parent)
    first = {name: _deployment(stack.api, name) for name in NAMES}
    for name, deployment in first.items():
        assert deployment["work_pool_name"] == POOL, name
        assert deployment["work_queue_name"] == "syncs", name
        # A module entrypoint: workers import the installed package, nothing to pull.
        assert deployment["entrypoint"] == "flows.sync.sync_launch_calendar", name
        assert deployment["pull_steps"] == [], name
        # Relative paths in the config resolve next to it, the same for every run.
        assert deployment["job_variables"] == {"working_dir": home}, name
        assert deployment["parameters"]["config"] == config, name
        assert deployment["global_concurrency_limit"]["limit"] == 1, name
    crons = {n: [s["schedule"].get("cron") for s in first[n]["schedules"]] for n in NAMES}
    assert crons == {"scheduled": ["*/15 * * * *"], "nightly-full": ["0 3 * * *"], "on-change": []}

    # Deploying again updates the same deployments in place.
    again = _launchsync_deploy(stack.env, "--config", str(stack.config), "--cron", "0 * * * *")
    assert again.returncode == 0, again.stdout + again.stderr
    second = {name: _deployment(stack.api, name) for name in NAMES}
    assert {n: d["id"] for n, d in second.items()} == {n: d["id"] for n, d in first.items()}
    assert [s["schedule"]["cron"] for s in second["scheduled"]["schedules"]] == ["0 * * * *"]


@pytest.mark.parametrize(
    ("api_url", "message"),
    [
        (None, "PREFECT_API_URL is not set; export it"),
        ("http://127.0.0.1:9/api", "prefect GET http://127.0.0.1:9/api/health failed"),
    ],
)
def test_deploy_without_a_reachable_server_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api_url: str | None, message: str
) -> None:
    calendar = {"kind": "google", "calendar_ids": [CALENDAR_ID]}
    config = tmp_path / "launchsync.yaml"
    data = demo_config("https://jira.example", calendar, "sqlite:///state.db")
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    # Unset, Prefect would quietly start a throwaway server and deploy to that.
    with temporary_settings({PREFECT_API_URL: api_url}):
        code = main(["deploy", "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(f"launchsync: error: {message}"), err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in out + err


def test_deploy_with_a_missing_config_names_it_before_contacting_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yaml"
    code = main(["deploy", "--config", str(missing)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"launchsync: error: {missing}: no such file; create it or pass --config PATH\n"


def test_runs_started_at_once_spread_over_both_workers_and_act_once(stack: Stack) -> None:
    # Engineering slips ATL 2.1 by a week: its launch events now come before the release.
    version_id, version = next(
        (vid, v)
        for vid, v in stack.sandboxes.jira.versions.items()
        if v.get("name") == "2.1" and str(v.get("projectId")) == "10000"
    )
    slipped = dt.date.fromisoformat(version["releaseDate"]) + dt.timedelta(days=7)
    stack.sandboxes.jira.move_version(version_id, slipped)

    config = str(stack.config.resolve())
    targeted = {"config": config, "release_ids": [version_id]}
    # Two of one deployment: the second queues for the deployment's one slot.
    starts = [("scheduled", {}), ("on-change", targeted), ("nightly-full", {}), ("scheduled", {})]
    run_ids = [_create_run(stack, name, parameters) for name, parameters in starts]

    def all_final() -> dict[str, str] | None:
        states = {run_id: _state(stack, run_id) for run_id in run_ids}
        return states if set(states.values()) <= FINAL else None

    states = wait_until("all four runs to finish", all_final, 180, 1.0, stack.processes)
    assert set(states.values()) == {"COMPLETED"}, states

    def all_executed() -> dict[str, list[str]] | None:
        executed = _executed_by(stack, run_ids)
        return executed if all(executed.values()) else None

    executed = wait_until(
        "an executed-flow-run event for every run", all_executed, 30, 0.5, stack.processes
    )
    assert all(len(names) == 1 for names in executed.values()), executed
    assert {names[0] for names in executed.values()} == set(WORKERS), executed

    tickets = _tickets_by_marker(stack)
    assert tickets, "no divergence tickets were opened"
    assert [m for m, n in tickets.items() if n > 1] == [], tickets
    emails = _emails(stack)
    assert [k for k, n in emails.items() if n > 1] == [], emails
    assert any("Atlas 2.1" in subject for _, subject in emails), list(emails)
    print(
        f"\n{len(run_ids)} runs: "
        f"{dict(Counter(names[0] for names in executed.values()))}; "
        f"{len(tickets)} tickets, {len(emails)} e-mails, none twice"
    )
