"""Run launchsync's deployments: in one process (`launchsync serve`) or on a work pool
(`launchsync deploy`).

The same deployments as deployments/prefect.yaml: an incremental sync every 15 minutes, a
nightly full resync, a targeted sync triggered by the webhook receiver's
`launchsync.source.changed` events, and the freshness watchdog. Both paths build them with
`served()`.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from deployments.webhooks import EVENT_NAME
from flows.bootstrap import config_key_of
from models.errors import ConfigError, ConnectorError

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

DEFAULT_CRON = "*/15 * * * *"
NIGHTLY_CRON = "0 3 * * *"
DEFAULT_POOL = "launchsync"
WORK_QUEUE = "syncs"  # as in deployments/prefect.yaml
# Prefect's Runner polls for due runs every 10 s by default: most of a webhook's latency.
SERVE_POLL_SECONDS = 1.0
WATCHDOG_SECONDS = 300  # freshness checks and push channel renewal


@dataclass(frozen=True)
class Served:
    """One deployment of a launchsync flow: its name and `to_deployment` options."""

    flow: Flow[..., Any]
    name: str
    options: dict[str, Any]


def served(config: Path, cron: str = DEFAULT_CRON) -> list[Served]:
    """The three sync deployments for one config file, and its freshness watchdog."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.events import DeploymentEventTrigger

    from flows.sync import sync_launch_calendar
    from flows.watchdog import launchsync_watchdog

    path = str(config.resolve())
    one_at_a_time = ConcurrencyLimitConfig(
        limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
    )
    on_change = DeploymentEventTrigger(
        expect={EVENT_NAME},
        match={"prefect.resource.id": f"launchsync.config.{config_key_of(config)}"},
        parameters={"config": path, "release_ids": "{{ event.payload.release_ids }}"},
    )
    sync: dict[str, Any] = {"concurrency_limit": one_at_a_time, "tags": ["launchsync"]}
    return [
        Served(
            sync_launch_calendar,
            "scheduled",
            {"cron": cron, "parameters": {"config": path}, **sync},
        ),
        Served(
            sync_launch_calendar,
            "nightly-full",
            {"cron": NIGHTLY_CRON, "parameters": {"config": path, "full": True}, **sync},
        ),
        Served(
            sync_launch_calendar,
            "on-change",
            {"triggers": [on_change], "parameters": {"config": path}, **sync},
        ),
        # Beside the syncs, not in them: it must notice when no sync runs at all.
        Served(
            launchsync_watchdog,
            "watchdog",
            {"interval": WATCHDOG_SECONDS, "parameters": {"config": path}, "tags": ["launchsync"]},
        ),
    ]


def serve(config: Path, cron: str = DEFAULT_CRON) -> None:
    """Serve all four deployments from this process until interrupted."""
    from prefect.runner import Runner

    from deployments import warm_start

    # None lets the Runner read PREFECT_RUNNER_POLL_FREQUENCY when the user has set it.
    poll = None if "PREFECT_RUNNER_POLL_FREQUENCY" in os.environ else SERVE_POLL_SECONDS
    runner = Runner(name="launchsync", query_seconds=poll)
    warm_start.install()
    # add_flow, not add_deployment: the Runner then runs the flow object it holds instead
    # of a new `python -m prefect.engine` that loads it again from storage.
    for one in served(config, cron):
        runner.add_flow(one.flow, name=one.name, **one.options)
        print(f"serving {one.flow.name}/{one.name}", flush=True)
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        print("stopped", flush=True)


def deploy(config: Path, pool: str = DEFAULT_POOL, cron: str = DEFAULT_CRON) -> list[UUID]:
    """Register the four deployments on the Prefect server for a `process` work pool.

    The pool is created when missing; `prefect worker start --pool <pool>` then runs them.
    """
    from prefect import deploy as prefect_deploy
    from prefect.types.entrypoint import EntrypointType

    api = _reachable_api()
    _ensure_process_pool(pool, api)
    # A module entrypoint: any worker with launchsync installed imports the flow; no image,
    # no code storage to pull.
    # to_deployment is async-dispatched: called from sync code it returns the deployment.
    found = [
        cast(
            "RunnerDeployment",
            one.flow.to_deployment(
                name=one.name, entrypoint_type=EntrypointType.MODULE_PATH, **one.options
            ),
        )
        for one in served(config, cron)
    ]
    for deployment in found:
        deployment.work_queue_name = WORK_QUEUE
        # Else each run starts in a new temporary directory, and a relative path in the
        # config (`sqlite:///launchsync.db`) would be a new, empty state store every time.
        deployment.job_variables = {"working_dir": str(config.resolve().parent)}
    try:
        ids = cast(  # async-dispatched: the sync call returns the ids
            "list[UUID]",
            prefect_deploy(
                *found,
                work_pool_name=pool,
                build=False,
                push=False,
                print_next_steps_message=False,
                ignore_warnings=True,
            ),
        )
    except Exception as exc:  # Prefect wraps API failures in several types; name them once
        raise ConnectorError("prefect", f"deploy to {api}", None, _one_line(exc)) from exc
    if len(ids) != len(found):  # Prefect printed which ones failed and why
        raise ConnectorError("prefect", f"deploy to {api}", None, "see the table above")
    return ids


def _reachable_api() -> str:
    """PREFECT_API_URL, checked to answer; without it Prefect would start a throwaway server."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    if not api:
        raise ConfigError(
            "PREFECT_API_URL is not set; export it, e.g. PREFECT_API_URL=http://HOST:4200/api"
        )
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise ConnectorError(
            "prefect", f"GET {api}/health", None, f"{_one_line(problem)}; is the server running?"
        )
    return str(api)


def _ensure_process_pool(pool: str, api: str) -> None:
    """Create the work pool (type `process`, Prefect's default job template) when missing."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            existing = client.read_work_pool(pool)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(
                WorkPoolCreate(name=pool, type="process", base_job_template=template)
            )
            return
    if existing.type != "process":
        raise ConfigError(
            f"work pool {pool!r} on {api} is of type {existing.type!r}, not 'process'; "
            "pass --pool NAME for another pool"
        )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
