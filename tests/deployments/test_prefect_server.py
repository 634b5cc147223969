"""`launchsync serve` against a real, self-hosted Prefect server: every way a sync starts.

The test starts `prefect server start` on loopback, the Jira and Google sandboxes with the
demo seed, an SMTP outbox, `launchsync serve` (the three deployments, cron every minute)
and `launchsync webhooks`, all as real processes. Everything is checked through the
server's HTTP API with plain JSON bodies, as the Prefect UI does.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from deployments.webhook_auth import sign
from flows.bootstrap import config_key_of
from sandbox.databases import PostgresDatabases
from sandbox.demo_seed import CALENDAR_ID, demo_config, write_demo_seed
from sandbox.outbox import Outbox
from sandbox.run import running_sandboxes
from sandbox.server import free_port
from tests.chromium import CHROMIUM, screenshot
from tests.fixtures.prefect_server import (
    PrefectServer,
    Process,
    launchsync_process,
    prefect_server,
    wait_until,
)

TODAY = dt.date(2026, 11, 23)
FLOW = "sync-launch-calendar"
NAMES = ("scheduled", "nightly-full", "on-change")
SECRET = "whsec-prefect-server-test"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
CONFIG_NAME = "launchsync.yaml"
KEY = config_key_of(CONFIG_NAME)


@dataclass(frozen=True)
class Stack:
    """Everything running for this module."""

    server: PrefectServer
    api: httpx.Client
    config: Path
    outbox: Outbox
    serve: Process
    webhooks: Process
    webhooks_url: str
    deployments: dict[str, dict[str, Any]]
    workdir: Path

    @property
    def processes(self) -> tuple[Process, ...]:
        return (self.server.process, self.serve, self.webhooks)


def _write_config(workdir: Path, jira_url: str, google_endpoint: str, outbox: Outbox) -> Path:
    calendar = {"kind": "google", "calendar_ids": [CALENDAR_ID], "api_endpoint": google_endpoint}
    data = demo_config(jira_url, calendar, f"sqlite:///{workdir / 'state.db'}")
    data["alerts"] = {"smtp": outbox.url, "operators": ["ops@launchsync.example"]}
    data["webhooks"] = {"jira_secret": "${LS_JIRA_WEBHOOK_SECRET}", "port": free_port()}
    data["report"] = {"html": str(workdir / "timeline.html")}
    path = workdir / CONFIG_NAME
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _deployment(api: httpx.Client, name: str) -> dict[str, Any] | None:
    response = api.get(f"/deployments/name/{FLOW}/{name}")
    return response.json() if response.status_code == 200 else None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresDatabases) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("prefect-server")
    write_demo_seed(workdir / "seed", TODAY)
    # PostgreSQL, as a team's shared server runs: SQLite locks under this many writers.
    with (
        prefect_server(workdir, postgres.create()) as server,
        httpx.Client(base_url=server.api, timeout=10) as api,
        running_sandboxes(workdir / "seed") as sandboxes,
        Outbox(workdir / "outbox") as outbox,
    ):
        config = _write_config(workdir, sandboxes.jira_url, sandboxes.google_endpoint, outbox)
        port = yaml.safe_load(config.read_text())["webhooks"]["port"]
        env = {**server.env(workdir / "client-home"), "LS_JIRA_WEBHOOK_SECRET": SECRET}
        serve_argv = ["serve", "--config", str(config), "--cron", "* * * * *"]
        with (
            launchsync_process("serve", serve_argv, env, workdir) as serve,
            launchsync_process(
                "webhooks", ["webhooks", "--config", str(config)], env, workdir
            ) as hooks,
        ):
            procs = (server.process, serve, hooks)
            wait_until(
                "the three deployments",
                lambda: all(_deployment(api, n) for n in NAMES),
                90,
                processes=procs,
            )
            webhooks_url = f"http://127.0.0.1:{port}"
            wait_until(
                "the webhook receiver", lambda: _up(f"{webhooks_url}/healthz"), 30, processes=procs
            )
            deployments = {n: _deployment(api, n) or {} for n in NAMES}
            yield Stack(
                server, api, config, outbox, serve, hooks, webhooks_url, deployments, workdir
            )


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _runs(stack: Stack, deployment: str) -> list[dict[str, Any]]:
    body = {
        "deployments": {"id": {"any_": [stack.deployments[deployment]["id"]]}},
        "sort": "EXPECTED_START_TIME_ASC",
        "limit": 100,
    }
    response = stack.api.post("/flow_runs/filter", json=body)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def _run(stack: Stack, run_id: str) -> dict[str, Any]:
    response = stack.api.get(f"/flow_runs/{run_id}")
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def _artifact_keys(stack: Stack, run_id: str) -> set[str]:
    body = {"artifacts": {"flow_run_id": {"any_": [run_id]}}, "limit": 50}
    response = stack.api.post("/artifacts/filter", json=body)
    response.raise_for_status()
    return {row["key"] for row in response.json() if row.get("key")}


def _state(run: dict[str, Any]) -> str:
    return str((run.get("state") or {}).get("type"))


def _finished(stack: Stack, run_id: str, timeout: float) -> dict[str, Any]:
    """Wait for a run to reach a final state; fail with its logs unless it completed."""

    def final() -> dict[str, Any] | None:
        run = _run(stack, run_id)
        return run if _state(run) in FINAL else None

    run: dict[str, Any] = wait_until(
        f"flow run {run_id} to finish", final, timeout, 0.2, stack.processes
    )
    assert _state(run) == "COMPLETED", f"{run['state']}\n{stack.serve.tail()}"
    return run


def test_the_three_deployments_offer_the_run_form_parameters(stack: Stack) -> None:
    config = str(stack.config.resolve())
    for name in NAMES:
        deployment = stack.deployments[name]
        properties = deployment["parameter_openapi_schema"]["properties"]
        # The UI's Run form renders a toggle for booleans and a list input for release ids.
        assert properties["dry_run"]["type"] == "boolean", properties["dry_run"]
        assert properties["full"]["type"] == "boolean", properties["full"]
        release_ids = properties["release_ids"]["anyOf"]
        assert {"type": "array", "items": {"type": "string"}} in release_ids, release_ids
        assert deployment["parameters"]["config"] == config
        assert deployment["global_concurrency_limit"]["limit"] == 1
        assert deployment["tags"] == ["launchsync"]
    assert stack.deployments["nightly-full"]["parameters"]["full"] is True
    crons = {
        n: [s["schedule"].get("cron") for s in stack.deployments[n]["schedules"]] for n in NAMES
    }
    assert crons == {"scheduled": ["* * * * *"], "nightly-full": ["0 3 * * *"], "on-change": []}


def test_a_run_started_as_the_ui_does_completes_with_its_parameters(stack: Stack) -> None:
    deployment_id = stack.deployments["scheduled"]["id"]
    response = stack.api.post(
        f"/deployments/{deployment_id}/create_flow_run", json={"parameters": {"dry_run": True}}
    )
    assert response.status_code == 201, response.text
    run = _finished(stack, response.json()["id"], 90)
    assert run["parameters"] == {"config": str(stack.config.resolve()), "dry_run": True}
    # The sync got as far as publishing its divergences (a run that skipped would not).
    assert _artifact_keys(stack, run["id"]) >= {f"{KEY}-divergences", f"{KEY}-summary"}


def test_a_signed_jira_webhook_starts_a_targeted_sync(stack: Stack) -> None:
    before = {r["id"] for r in _runs(stack, "on-change")}
    body = json.dumps(
        {
            "webhookEvent": "jira:version_updated",
            "timestamp": int(time.time() * 1000),
            "version": {"id": "11004", "name": "2.2", "releaseDate": "2027-01-24"},
        }
    ).encode()
    headers = {
        "X-Hub-Signature": sign(body, SECRET),
        "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    sent = time.monotonic()
    response = httpx.post(f"{stack.webhooks_url}/webhooks/jira", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["release_ids"] == ["11004"]

    def new_run() -> dict[str, Any] | None:
        runs = [r for r in _runs(stack, "on-change") if r["id"] not in before]
        return runs[0] if runs else None

    created = wait_until("the on-change flow run", new_run, 60, 0.1, stack.processes)
    created_after = time.monotonic() - sent
    run = _finished(stack, created["id"], 90)
    done_after = time.monotonic() - sent
    assert run["parameters"]["release_ids"] == ["11004"], run["parameters"]
    assert run["parameters"]["config"] == str(stack.config.resolve())
    # The sync got as far as publishing its divergences (a run that skipped would not).
    assert _artifact_keys(stack, run["id"]) >= {f"{KEY}-divergences", f"{KEY}-summary"}
    print(
        f"\nwebhook -> on-change run created {created_after:.2f} s, "
        f"-> completed {done_after:.2f} s "
        f"(run start {run['start_time']}, end {run['end_time']}; "
        f"{len(stack.outbox.messages())} e-mails in the outbox so far)"
    )


def test_the_every_minute_schedule_produces_a_completed_run(stack: Stack) -> None:
    # The server's scheduler fills the schedule within seconds of the deployment's creation.
    def first_scheduled() -> dict[str, Any] | None:
        runs = [r for r in _runs(stack, "scheduled") if r.get("auto_scheduled")]
        return runs[0] if runs else None

    started = time.monotonic()
    scheduled = wait_until(
        "the scheduler to schedule a run", first_scheduled, 30, 1.0, stack.processes
    )
    print(f"\nfirst scheduled run {scheduled['name']} due {scheduled['expected_start_time']}")
    run = _finished(stack, scheduled["id"], 100)
    assert run["parameters"] == {"config": str(stack.config.resolve())}
    assert _artifact_keys(stack, run["id"]) >= {f"{KEY}-divergences", f"{KEY}-summary"}
    print(f"scheduled run completed after {time.monotonic() - started:.1f} s of waiting")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_prefect_ui_shows_the_deployments_in_headless_chromium(stack: Stack) -> None:
    png = stack.workdir / "prefect-ui-deployments.png"
    stderr = screenshot(
        f"{stack.server.url}/deployments",
        png,
        stack.workdir / "chromium",
        "1400,1000",
        "--virtual-time-budget=15000",
    )
    assert png.exists(), stderr[-2000:]
    print(f"\nPrefect UI screenshot: {png} ({png.stat().st_size} bytes)")
    assert png.stat().st_size > 20_000  # a rendered page, not a blank one
