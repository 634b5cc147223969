"""Real processes for tests and benchmarks: a self-hosted Prefect server, launchsync
commands and workers, each in its own process group with its output in a log file.

Start, wait, always stop: every helper is a context manager or stops what it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from sandbox.server import free_port

ROOT = Path(__file__).resolve().parents[1]


class Process:
    """A subprocess in its own process group, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            args,
            cwd=ROOT,
            env=dict(env),
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its children (uvicorn, flow runs) share its group
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, chars: int = 4000) -> str:
        """The end of the process's output, for assertion messages."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return f"--- {self.name} ({self.log}) ---\n{text[-chars:]}"

    def stop(self) -> None:
        """SIGTERM the whole group, SIGKILL what lingers; safe to call twice."""
        self._signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.popen.wait(timeout=10)
        self._signal(signal.SIGKILL)  # children that outlived their parent
        self._out.close()

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is gone
            os.killpg(self.popen.pid, sig)


def wait_until(
    what: str,
    check: Callable[[], Any],
    timeout: float,
    interval: float = 0.5,
    processes: tuple[Process, ...] = (),
) -> Any:
    """Poll `check` until it returns something truthy; fail with the processes' logs."""
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            assert process.alive(), f"{process.name} exited while waiting for {what}\n" + (
                process.tail()
            )
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = "\n".join(p.tail() for p in processes)
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")
        time.sleep(interval)


def base_env(prefect_home: Path) -> dict[str, str]:
    """This environment with a private Prefect home and no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass(frozen=True)
class PrefectServer:
    """`prefect server start` on loopback."""

    url: str  # http://127.0.0.1:PORT
    process: Process

    @property
    def api(self) -> str:
        return f"{self.url}/api"

    def env(self, prefect_home: Path) -> dict[str, str]:
        """An environment for a client process of this server."""
        return {**base_env(prefect_home), "PREFECT_API_URL": self.api}


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def asyncpg_url(sqlalchemy_url: str) -> str:
    """The same PostgreSQL database, spelled for Prefect's async driver."""
    return make_url(sqlalchemy_url).set(drivername="postgresql+asyncpg").render_as_string(False)


@contextmanager
def prefect_server(
    workdir: Path,
    database_url: str | None = None,
    startup_timeout: float = 90,
    settings: Mapping[str, str] | None = None,
) -> Iterator[PrefectServer]:
    """Start a Prefect server with its own home in `workdir`; stop it on exit.

    `database_url` (PostgreSQL) backs it as a production server is; without it, SQLite.
    `settings` are extra PREFECT_* variables for the server.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**base_env(workdir / "server-home"), **(settings or {})}
    env["PREFECT_UI_API_URL"] = f"{url}/api"  # else the UI talks to the default port 4200
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = asyncpg_url(database_url)
    args = [sys.executable, "-m", "prefect", "server", "start"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    process = Process("prefect server", args, env, workdir / "prefect-server.log")
    try:
        server = PrefectServer(url, process)
        wait_until("/api/health", lambda: _healthy(server.api), startup_timeout, 0.5, (process,))
        yield server
    finally:
        process.stop()


@contextmanager
def launchsync_process(
    name: str, argv: list[str], env: Mapping[str, str], workdir: Path
) -> Iterator[Process]:
    """`python -m flows.cli <argv>` as a subprocess, stopped on exit."""
    process = Process(
        name, [sys.executable, "-m", "flows.cli", *argv], env, workdir / f"{name}.log"
    )
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def prefect_worker(
    name: str, pool: str, env: Mapping[str, str], workdir: Path, limit: int | None = None
) -> Iterator[Process]:
    """`prefect worker start` for a process work pool, with its own Prefect home."""
    args = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool]
    args += ["--type", "process", "--name", name]
    args += ["--limit", str(limit)] if limit is not None else []
    worker_env = {**env, "PREFECT_HOME": str(workdir / f"{name}-home")}
    process = Process(name, args, worker_env, workdir / f"{name}.log")
    try:
        yield process
    finally:
        process.stop()
