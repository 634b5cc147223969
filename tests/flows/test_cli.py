"""The `launchsync` command as a user runs it: a real process, its output and exit code."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from models.config import Config, load_config
from models.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = [
    "--config",
    str(ROOT / "examples/launchsync.yaml"),
    "--from-seed",
    str(ROOT / "examples/seed"),
    "--today",
    "2026-11-23",
]


def launchsync(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_plan_json_follows_the_contract() -> None:
    result = launchsync("plan", *EXAMPLE, "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert {"generated_at", "divergences", "actions"} <= plan.keys()
    first = plan["divergences"][0]
    assert {"kind", "severity", "release", "event", "delta_days", "message"} <= first.keys()
    assert set(first["release"]) == {"source", "id", "key", "name", "date"}
    assert {d["kind"] for d in plan["divergences"]} == {
        "date_mismatch",
        "missing_event",
        "orphan_event",
        "release_unscheduled",
        "overdue_release",
    }
    severities = [d["severity"] for d in plan["divergences"]]
    assert severities == sorted(severities, key=["critical", "warning", "info"].index)


def test_plan_is_reproducible_for_a_given_day() -> None:
    def body(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
        data = json.loads(result.stdout)
        data.pop("generated_at")
        return data

    first = launchsync("plan", *EXAMPLE, "--format", "json")
    assert body(first) == body(launchsync("plan", *EXAMPLE, "--format", "json"))


def test_plan_table_shows_the_slip_most_urgent_first() -> None:
    result = launchsync("plan", *EXAMPLE)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "12 critical, 14 warning, 3 info" in lines[0]
    rows = [line for line in lines if "│" in line and "severity" not in line]
    assert "critical" in rows[0] and "info" in rows[-1]
    assert any("Atlas 2.1 launch blog post" in r and "2026-12-17" in r and "-7d" in r for r in rows)


def test_a_bad_config_is_one_line_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        (ROOT / "examples/launchsync.yaml")
        .read_text()
        .replace("horizon_days: 90", "horizon_days: ninety")
    )
    result = launchsync("plan", "--config", str(config), "--from-seed", str(ROOT / "examples/seed"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"launchsync: error: {config}: policy.horizon_days: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]


def test_bad_seed_items_are_skipped_with_a_note_and_the_rest_still_plans(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    jira = json.loads((ROOT / "examples/seed/jira.json").read_text())
    jira["projects"][0]["versions"][2]["releaseDate"] = "2026-02-30"
    (seed / "jira.json").write_text(json.dumps(jira))
    (seed / "calendars.json").write_text((ROOT / "examples/seed/calendars.json").read_text())
    args = [a if a != str(ROOT / "examples/seed") else str(seed) for a in EXAMPLE]
    result = launchsync("plan", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["problems"] == [
        {
            "item": "version 2.0 of ATL",
            "error": "releaseDate '2026-02-30' is not a date; use YYYY-MM-DD",
        }
    ]
    assert any(d["release"] and d["release"]["key"] == "BCN" for d in plan["divergences"])


def test_a_bad_today_is_refused_by_the_parser() -> None:
    result = launchsync("plan", *EXAMPLE[:4], "--today", "tomorrow")
    assert result.returncode == 2 and "'tomorrow' is not a date; use YYYY-MM-DD" in result.stderr


@pytest.mark.parametrize("command", ["serve", "deploy"])
def test_a_bad_cron_is_refused_before_anything_starts(command: str) -> None:
    result = launchsync(command, "--config", EXAMPLE[1], "--cron", "61 * * * *")
    assert result.returncode == 2, result.stdout
    assert "--cron: '61 * * * *' is not a cron expression; use five fields" in result.stderr
    assert "Traceback" not in result.stderr


def test_sandbox_serves_both_emulators_with_seeded_faults_and_writes_their_config(
    tmp_path: Path,
) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "jira.json").write_text((ROOT / "examples/seed/jira.json").read_text())
    calendars = json.loads((ROOT / "examples/seed/calendars.json").read_text())
    calendars["faults"] = [{"kind": "status", "status": 503, "path": "/events"}]
    (seed / "calendars.json").write_text(json.dumps(calendars))
    path = tmp_path / "sandbox.yaml"
    command = ["sandbox", "--seed", str(seed), "--write-config", str(path)]
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *command],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        config = wait_for_config(path, process)
        token = config.jira.api_token.get_secret_value() if config.jira.api_token else ""
        info = httpx.get(
            f"{config.jira.url}/rest/api/2/serverInfo", auth=(config.jira.email or "", token)
        )
        assert info.status_code == 200 and info.json()["deploymentType"] == "Cloud"
        assert config.calendar.calendar_ids == tuple(c for c in calendars if c != "faults")
        url = f"{config.calendar.api_endpoint}calendars/{config.calendar.calendar_ids[0]}/events"
        assert httpx.get(url).status_code == 503  # the fault seeded in calendars.json, once
        events = httpx.get(url)
        assert events.status_code == 200 and events.json()["items"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_for_config(path: Path, process: subprocess.Popen[str], seconds: float = 30) -> Config:
    """The config `launchsync sandbox` writes, once it is there and whole."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"launchsync sandbox exited {process.returncode}: {process.stderr.read()}")  # type: ignore[union-attr]
        with contextlib.suppress(ConfigError):
            return load_config(path)
        time.sleep(0.05)
    pytest.fail(f"launchsync sandbox wrote no config to {path} in {seconds} s")
