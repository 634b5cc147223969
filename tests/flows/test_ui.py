"""`launchsync demo --ui`: a Prefect server on loopback that holds the runs made inside it."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from prefect import flow
from rich.console import Console

from flows.ui import prefect_ui


@flow(name="ui-probe")
def probe() -> str:
    return "ran"


def test_the_ui_server_holds_the_runs_made_inside_it_and_its_ui_asks_that_server(
    tmp_path: Path,
) -> None:
    with prefect_ui(tmp_path, enabled=True, console=Console(file=io.StringIO()), stay=False) as url:
        assert url is not None and url.startswith("http://127.0.0.1:")
        assert probe() == "ran"
        runs = httpx.post(f"{url}/api/flow_runs/filter", json={}, timeout=10).json()
        assert [(r["state_type"], r["flow_id"] is not None) for r in runs] == [("COMPLETED", True)]
        # The browser UI reads its API address here: it must be this server, not :4200.
        assert httpx.get(f"{url}/ui-settings", timeout=10).json()["api_url"] == f"{url}/api"
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()
    with pytest.raises(httpx.ConnectError):  # not asked to stay: stopped with the body
        httpx.get(f"{url}/api/health", timeout=2)
    assert (tmp_path / "prefect-server.log").exists()


def test_without_ui_prefect_runs_embedded(tmp_path: Path) -> None:
    with prefect_ui(tmp_path, enabled=False, console=Console(file=io.StringIO())) as url:
        assert url is None
    assert not (tmp_path / "prefect-server.log").exists()
