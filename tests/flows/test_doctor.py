"""`launchsync doctor` against the emulators: every system checked, failures say the fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from flows.doctor import run_checks
from sandbox.demo_seed import write_demo_seed
from sandbox.run import running_sandboxes, sandbox_config
from sandbox.server import free_port


def test_doctor_passes_every_check_against_working_systems(tmp_path: Path) -> None:
    write_demo_seed(tmp_path / "seed", dt.date(2026, 11, 23))
    with running_sandboxes(tmp_path / "seed") as running:
        config = sandbox_config(running, f"sqlite:///{tmp_path / 'state.db'}")
        config["alerts"] = {"routes": [{"notify": ["json://127.0.0.1:9/hook"]}]}
        path = tmp_path / "ok.yaml"
        path.write_text(yaml.safe_dump(config))
        checks = run_checks(path)
    assert [(c.system, c.ok) for c in checks] == [
        ("config", True),
        ("state", True),
        ("jira", True),
        ("google", True),
        ("alerts", True),
        ("freshness", True),
    ]
    assert checks[2].detail.startswith("readable: 27 items")
    assert checks[-1].detail == "no sync has run yet: run `launchsync apply`"


def test_doctor_shows_the_freshness_of_every_source_the_syncs_read(tmp_path: Path) -> None:
    from connectors.state_store import StateStore
    from flows.bootstrap import config_key_of

    path = tmp_path / "launchsync.yaml"
    state = f"sqlite:///{tmp_path / 'state.db'}"
    path.write_text(
        yaml.safe_dump(
            {
                "jira": {"url": f"http://127.0.0.1:{free_port()}", "projects": ["P"]},
                "calendar": {"kind": "ics", "calendar_ids": [str(tmp_path / "none.ics")]},
                "state": {"url": state},
            }
        )
    )
    key = config_key_of(path)
    with StateStore.open(state) as store:  # what three syncs left behind
        store.record_read(key, "calendar:ics")
        for _ in range(3):
            store.record_read(key, "jira", error="jira serverInfo failed: refused", status=None)
    fresh = {c.what: c for c in run_checks(path) if c.system == "freshness"}
    assert fresh["calendar:ics"].ok and "last read 20" in fresh["calendar:ics"].detail
    assert not fresh["jira"].ok
    assert fresh["jira"].detail == "failed 3 reads in a row: jira serverInfo failed: refused"
    assert not fresh["sync"].ok and "no successful sync ever" in fresh["sync"].detail


def test_doctor_names_what_to_fix_and_still_checks_the_rest(tmp_path: Path) -> None:
    write_demo_seed(tmp_path / "seed", dt.date(2026, 11, 23))
    with running_sandboxes(tmp_path / "seed") as running:
        config = sandbox_config(running, f"sqlite:///{tmp_path / 'state.db'}")
        config["jira"]["url"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        config["calendar"]["calendar_ids"] = ["ghost@example.com"]
        config["alerts"] = {"routes": [{"notify": ["pm@example.com"]}]}  # but no smtp
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(config))
        checks = {c.system: c for c in run_checks(path)}
    assert checks["state"].ok
    assert not checks["jira"].ok and "connection refused" in checks["jira"].detail
    assert not checks["google"].ok and "ghost@example.com" in checks["google"].detail
    assert not checks["alerts"].ok and "smtp" in checks["alerts"].detail
    assert all("\n" not in c.detail for c in checks.values())


def test_doctor_reports_a_broken_config_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "timezone: Mars/Base\njira: {url: https://x.test, projects: [P]}\n"
        "calendar: {calendar_ids: [c]}\n"
    )
    (check,) = run_checks(path)
    assert not check.ok and "timezone: unknown time zone 'Mars/Base'" in check.detail
