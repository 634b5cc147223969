"""`launchsync doctor` against the emulators: every system checked, failures say the fix."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.doctor import Check, run_checks
from sandbox.demo_seed import write_demo_seed
from sandbox.run import running_sandboxes, sandbox_config
from sandbox.server import free_port
from tests.fixtures.receivers import HttpReceiver, SmtpServer


def doctor(
    tmp_path: Path,
    change: dict[str, Any],
    denied: dict[str, list[str]] | None = None,
    roles: dict[str, str] | None = None,
) -> list[Check]:
    """Run doctor on the demo sandboxes' config with `change` applied to its sections.

    `roles`: the account's access role per calendar; given, write-back is turned on.
    """
    seed = tmp_path / "seed"
    write_demo_seed(seed, dt.date(2026, 11, 23))
    if denied:  # what the Jira admin left out of the project's permission scheme
        jira = json.loads((seed / "jira.json").read_text())
        (seed / "jira.json").write_text(json.dumps(jira | {"denied_permissions": denied}))
    if roles is not None:  # how each calendar is shared with the account
        calendars = json.loads((seed / "calendars.json").read_text())
        (seed / "calendars.json").write_text(json.dumps(calendars | {"accessRoles": roles}))
    with running_sandboxes(seed) as running:
        config = sandbox_config(running, f"sqlite:///{tmp_path / 'state.db'}") | change
        if roles is not None:
            config["calendar"]["write_back"] = True
        path = tmp_path / "launchsync.yaml"
        path.write_text(yaml.safe_dump(config))
        return run_checks(path)


def test_doctor_passes_every_check_against_working_systems(
    tmp_path: Path,
    smtp_server: SmtpServer,
    http_receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMTP_URL", smtp_server.url)  # a password stays out of the file
    hook = f"json://127.0.0.1:{http_receiver.port}/hook"
    alerts = {"smtp": "${SMTP_URL}", "routes": [{"notify": ["pm@example.com", hook]}]}
    checks = doctor(tmp_path, {"alerts": alerts})
    assert [(c.system, c.what, c.ok) for c in checks][2:] == [
        ("jira", checks[2].what, True),
        ("jira", "tickets in ATL", True),
        ("google", "marketing@launchsync.example", True),
        ("alerts", "webhook", True),
        ("alerts", "email", True),
        ("alerts", f"webhook 127.0.0.1:{http_receiver.port}", True),
        ("alerts", f"smtp 127.0.0.1:{smtp_server.port}", True),
        ("freshness", "sync", True),
    ]
    assert [c.system for c in checks[:2]] == ["config", "state"] and all(c.ok for c in checks)
    assert checks[2].detail.startswith("readable: 27 items")
    assert "accepted the login" in checks[8].detail
    assert checks[-1].detail == "no sync has run yet: run `launchsync apply`"
    # Reachable, and still nothing was sent: no mail, no HTTP request.
    assert smtp_server.messages == [] and http_receiver.requests == []


def test_doctor_names_a_missing_ticket_permission_and_the_fix(tmp_path: Path) -> None:
    checks = doctor(tmp_path, {}, denied={"ATL": ["TRANSITION_ISSUES", "ADD_COMMENTS"]})
    (tickets,) = [c for c in checks if c.what == "tickets in ATL"]
    assert not tickets.ok
    assert tickets.detail.startswith(
        "the Jira account lacks ADD_COMMENTS, TRANSITION_ISSUES in project ATL; grant them"
    )
    assert "`jira.tickets.project`" in tickets.detail
    assert [c.what for c in checks if not c.ok] == ["tickets in ATL"]


CALENDAR = "marketing@launchsync.example"  # the demo seed's calendar


def test_doctor_names_a_calendar_write_back_may_not_change_and_the_fix(tmp_path: Path) -> None:
    checks = doctor(tmp_path, {}, roles={CALENDAR: "reader"})
    failed = {c.what: c.detail for c in checks if not c.ok}
    assert failed == {
        f"write-back to {CALENDAR}": (
            f"`calendar.write_back` is on but the account may not change events in {CALENDAR}"
            ' (access role reader); share each calendar with the account as "Make changes'
            ' to events", or set `calendar.write_back: false`'
        )
    }
    (read,) = [c for c in checks if c.what == CALENDAR]
    assert read.ok  # a reader still reads: only write-back is refused


def test_doctor_passes_write_back_where_the_account_may_change_events(tmp_path: Path) -> None:
    checks = doctor(tmp_path, {}, roles={CALENDAR: "writer"})
    (write,) = [c for c in checks if c.what == f"write-back to {CALENDAR}"]
    assert write.ok and write.detail == "may change events"
    assert all(c.ok for c in checks)


def test_doctor_says_when_smtp_refuses_the_login_or_a_webhook_host_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = SmtpServer(password="not-the-password").start()
    monkeypatch.setenv("SMTP_URL", smtp.url)
    try:
        hook = f"json://127.0.0.1:{free_port()}/hook"  # nothing listens there
        alerts = {"smtp": "${SMTP_URL}", "operators": ["ops@example.com", hook]}
        failed = {c.what: c.detail for c in doctor(tmp_path, {"alerts": alerts}) if not c.ok}
    finally:
        smtp.stop()
    assert failed[f"smtp 127.0.0.1:{smtp.port}"] == (
        f"SMTP server 127.0.0.1:{smtp.port} refused the login (smtp 535); "
        "check the user and password in `alerts.smtp`"
    )
    (webhook,) = [d for w, d in failed.items() if w.startswith("webhook 127.0.0.1:")]
    assert webhook.startswith("webhook host 127.0.0.1:") and "(connection refused)" in webhook
    assert "not-the-password" not in " ".join(failed.values())
    assert smtp.messages == []


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
    assert fresh["jira"].detail == (
        "launchsync is blind to it: failed 3 reads in a row: jira serverInfo failed: refused; "
        "fix what the checks above name, then run `launchsync apply`"
    )
    assert not fresh["sync"].ok and "no successful sync ever" in fresh["sync"].detail


def test_doctor_shows_when_webhooks_last_arrived_and_when_they_stopped(tmp_path: Path) -> None:
    from connectors.state_store import StateStore
    from flows.doctor import freshness_checks
    from flows.redact import Redactor
    from models.config import Config

    state = f"sqlite:///{tmp_path / 'state.db'}"
    calendars = ["a@example.com", "b@example.com"]
    config = Config.model_validate(
        {
            "jira": {"url": "https://jira.test", "projects": ["P"]},
            "calendar": {"calendar_ids": calendars},
            "webhooks": {"google_token": "channel-token-0123456789"},
            "state": {"url": state},
        }
    )
    now = dt.datetime.now(dt.UTC)
    with StateStore.open(state) as store:  # what the receiver and a sync left behind
        store.record_read("prod", "jira")
        store.record_run("prod", now, now, "success", {})
        for calendar in calendars:
            store.record_webhook("prod", f"google:{calendar}")
        store.record_change("prod", "google:b@example.com", now + dt.timedelta(hours=1))
    fresh = {c.what: c for c in freshness_checks(config, "prod", Redactor())}
    heard = fresh["webhook:google:a@example.com"]
    assert heard.ok and "last webhook 20" in heard.detail
    silent = fresh["webhook:google:b@example.com"]
    assert not silent.ok and "webhooks stopped arriving" in silent.detail


def test_doctor_names_what_to_fix_and_still_checks_the_rest(tmp_path: Path) -> None:
    write_demo_seed(tmp_path / "seed", dt.date(2026, 11, 23))
    with running_sandboxes(tmp_path / "seed") as running:
        config = sandbox_config(running, f"sqlite:///{tmp_path / 'state.db'}")
        config["jira"]["url"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        config["calendar"]["calendar_ids"].append("ghost@example.com")  # beside a real one
        config["alerts"] = {"routes": [{"notify": ["pm@example.com"]}]}  # but no smtp
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(config))
        checks = {c.system: c for c in run_checks(path)}
    assert checks["state"].ok
    assert not checks["jira"].ok and "connection refused" in checks["jira"].detail
    assert not checks["google"].ok
    assert "calendar ghost@example.com: does not exist" in checks["google"].detail
    assert "fix calendar.calendar_ids" in checks["google"].detail
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
