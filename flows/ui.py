"""`launchsync demo --ui`: a Prefect server (and its UI) on loopback for the demo's runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console

from sandbox.server import free_port

START_TIMEOUT = 90.0


@contextmanager
def prefect_ui(
    workdir: Path, *, enabled: bool, console: Console, stay: bool = True
) -> Iterator[str | None]:
    """Without `enabled`, Prefect runs embedded; with it, a server (its URL is yielded)
    whose UI stays up after the body until Ctrl-C, unless not asked to `stay`."""
    if not enabled:
        yield None
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = free_port()
    # Without PREFECT_UI_API_URL the browser UI would ask port 4200, not this server.
    env = {
        **os.environ,
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_HOME": str(workdir / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    log = (workdir / "prefect-server.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        with temporary_settings(updates={PREFECT_API_URL: f"{url}/api"}):
            yield url
        if not stay:
            return
        console.print(
            f"\n[bold]Prefect UI:[/] {url} (runs, parameters and artifacts); Ctrl-C stops it",
            highlight=False,
        )
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the Prefect server exited; see prefect-server.log in the workdir")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the Prefect server at {url} did not answer within {START_TIMEOUT:.0f}s")
