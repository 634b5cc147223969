"""Planted canary secrets never surface: not in logs, artifacts, the HTML report, errors,
the state store, doctor's output or alerts — whether they came from the environment or from
a config kept in a Prefect Secret block."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.artifacts import Artifact
from prefect.blocks.system import Secret

from connectors.ics import IcsCalendarSource, IcsFeed
from connectors.jira import JiraReleaseSource
from connectors.jira_settings import JiraSettings
from connectors.retry import RetryPolicy
from flows.bootstrap import Sources, load_with_secrets, open_runtime
from flows.doctor import run_checks
from flows.sync import SyncOptions
from flows.watchdog import launchsync_watchdog
from models.dates import Window
from models.errors import ConnectorError
from sandbox.server import free_port
from tests.fakes import FakeTicketSink
from tests.fixtures.calendars import IcsServer, vcalendar, vevent
from tests.fixtures.receivers import SMTP_PASSWORD, HttpReceiver, SmtpServer
from tests.flows.running import sync_in_flow
from tests.flows.test_sync_flow import TODAY, World

JIRA_CANARY = "jira-token-CANARY-7f3a9c"  # environment
HOOK_CANARY = "hook-secret-CANARY-b81d2e"  # environment, inside an apprise URL
BLOCK_CANARY = "block-token-CANARY-4c9e01"  # written in a config held by a Secret block
WEBHOOK_CANARY = "jira-webhook-CANARY-5a7d33"  # the receiver's Jira HMAC secret
CHANNEL_CANARY = "google-channel-CANARY-e02f6b"  # the Google push channel token
FEED_CANARY = "ics-feed-CANARY-91b4aa"  # the token of a private ICS feed address
CANARIES = (
    JIRA_CANARY,
    HOOK_CANARY,
    BLOCK_CANARY,
    WEBHOOK_CANARY,
    CHANNEL_CANARY,
    FEED_CANARY,
    SMTP_PASSWORD,
)
NO_WAIT = RetryPolicy(attempts=2, base_wait=0.0, max_wait=0.0, sleep=lambda _: None)


def assert_no_canary(outputs: dict[str, str]) -> None:
    for where, text in outputs.items():
        for canary in CANARIES:
            assert canary not in text, f"{canary} leaked into {where}"


def state_store_text(path: Path) -> str:
    """Every row of every table of a SQLite state store: run history, read errors, ..."""
    with closing(sqlite3.connect(path)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [row for t in tables for row in db.execute(f'SELECT * FROM "{t}"')]
    return "\n".join(map(str, rows))


def artifact_data(key: str) -> str:
    """The data of the latest Prefect artifact with this key; '' when there is none."""
    found = Artifact.get(key)
    assert not inspect.isawaitable(found)  # called outside an event loop: the sync variant
    return str(found.data or "") if found is not None else ""


def set_canary_environment(monkeypatch: pytest.MonkeyPatch, smtp_url: str) -> None:
    monkeypatch.setenv("LS_JIRA_TOKEN", JIRA_CANARY)
    monkeypatch.setenv("LS_SMTP_URL", smtp_url)
    monkeypatch.setenv(
        "LS_HOOK_URL", f"json://bot:{HOOK_CANARY}@127.0.0.1:9/hook?token={HOOK_CANARY}"
    )
    monkeypatch.setenv("LS_WEBHOOK_SECRET", WEBHOOK_CANARY)
    monkeypatch.setenv("LS_CHANNEL_TOKEN", CHANNEL_CANARY)


WEBHOOKS = {"jira_secret": "${LS_WEBHOOK_SECRET}", "google_token": "${LS_CHANNEL_TOKEN}"}


def test_no_secret_reaches_logs_artifacts_report_errors_state_or_alerts(
    tmp_path: Path,
    smtp_server: SmtpServer,
    http_receiver: HttpReceiver,
    prefect_harness: None,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    World(seed, "", FakeTicketSink(), None).write()  # type: ignore[arg-type]
    state, html = tmp_path / "state.db", tmp_path / "report" / "timeline.html"
    config: dict[str, Any] = {
        "timezone": "America/Los_Angeles",
        "jira": {
            "url": "https://jira.test",
            "email": "bot@example.com",
            "api_token": BLOCK_CANARY,  # allowed: the whole config is a Secret block
            "projects": ["PROJ"],
        },
        "calendar": {"calendar_ids": ["marketing@example.com"]},
        "alerts": {
            "smtp": "${LS_SMTP_URL}",
            "routes": [{"notify": ["pm@example.com", "${LS_HOOK_URL}", "${LS_LIVE_HOOK_URL}"]}],
        },
        "webhooks": WEBHOOKS,
        "report": {"html": str(html)},
        "state": {"url": f"sqlite:///{state}"},
    }
    Secret(value=yaml.safe_dump(config)).save("canary", overwrite=True)
    set_canary_environment(monkeypatch, smtp_server.url)
    live_hook = f"json://bot:{HOOK_CANARY}@127.0.0.1:{http_receiver.port}/hook?token={HOOK_CANARY}"
    monkeypatch.setenv("LS_LIVE_HOOK_URL", live_hook)
    caplog.set_level(logging.DEBUG)

    settings, redactor = load_with_secrets("block:canary")
    redactor.install()
    with open_runtime(settings, "canary", redactor, seed_dir=seed) as runtime:
        runtime = dataclasses.replace(runtime, sink=FakeTicketSink())
        report = sync_in_flow(runtime, SyncOptions(today=TODAY))

    assert report.outcome is not None
    (failure,) = report.outcome.failures  # the dead webhook: the secret URL was really used
    (mail,) = smtp_server.messages  # the e-mail went out through the password-protected server
    assert len(http_receiver.requests) == 1  # the live webhook was told: its claim is stored
    keys = ("canary-divergences", "canary-summary", "canary-timeline")
    artifacts = [artifact_data(key) for key in keys]
    assert all(artifacts)
    assert_no_canary(
        {
            "logs": caplog.text + "".join(capsys.readouterr()),
            "artifacts": "".join(artifacts),
            "HTML report": html.read_text(encoding="utf-8"),
            "errors": failure,
            "state store": state_store_text(state),
            "alert": mail.text + mail.html + str(mail.message),
        }
    )


def blind_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_url: str, server: str = ""
) -> Path:
    """A config whose Jira and private ICS feed (its token in the address) cannot be read."""
    dead = server or f"http://127.0.0.1:{free_port()}"  # by default nothing listens there
    monkeypatch.setenv("LS_FEED_URL", f"{dead}/ical/private/basic.ics?token={FEED_CANARY}")
    set_canary_environment(monkeypatch, smtp_url)
    config = {
        "jira": {
            "url": dead,
            "email": "bot@example.com",
            "api_token": "${LS_JIRA_TOKEN}",
            "projects": ["PROJ"],
        },
        "calendar": {"kind": "ics", "calendar_ids": ["${LS_FEED_URL}"]},
        "alerts": {"smtp": "${LS_SMTP_URL}", "operators": ["ops@example.com"]},
        "webhooks": WEBHOOKS,
        "freshness": {"failed_runs": 1},
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
    }
    path = tmp_path / "blind.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_failing_reads_the_state_store_and_the_watchdog_never_show_a_secret(
    tmp_path: Path,
    smtp_server: SmtpServer,
    prefect_harness: None,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = blind_config(tmp_path, monkeypatch, smtp_server.url)
    caplog.set_level(logging.DEBUG)
    settings, redactor = load_with_secrets(path)
    redactor.install()
    jira = JiraReleaseSource(JiraSettings.from_config(settings.jira), NO_WAIT)
    ics = IcsCalendarSource([IcsFeed.of(settings.calendar.calendar_ids[0])], policy=NO_WAIT)
    with pytest.raises(ConnectorError) as jira_error:
        jira.releases()
    with pytest.raises(ConnectorError) as feed_error:
        ics.events()
    with open_runtime(settings, "blind", redactor) as runtime:
        runtime = dataclasses.replace(runtime, sources=Sources(jira, ics), sink=FakeTicketSink())
        report = sync_in_flow(runtime, SyncOptions(today=TODAY))
    watched = launchsync_watchdog(config=str(path))

    assert report.plan is not None and report.plan.blind  # both reads really failed
    assert watched["blind"] and smtp_server.messages  # and the operators heard of it
    freshness = artifact_data("blind-freshness")
    assert freshness
    assert_no_canary(
        {
            "Jira error": str(jira_error.value),
            "feed error": str(feed_error.value),
            "logs": caplog.text + "".join(capsys.readouterr()),
            "state store": state_store_text(tmp_path / "state.db"),
            "watchdog": str(watched) + freshness,
            "operator alert": "".join(m.text + str(m.message) for m in smtp_server.messages),
        }
    )


def test_doctor_never_shows_a_secret(
    tmp_path: Path,
    smtp_server: SmtpServer,
    http_receiver: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http_receiver.respond(*[401] * 20)  # refused at once: a 401 is never retried
    path = blind_config(tmp_path, monkeypatch, smtp_server.url, http_receiver.url)
    checks = run_checks(path)
    assert {c.system for c in checks if not c.ok} >= {"jira", "ics"}  # it really tried them
    assert_no_canary({"doctor": "\n".join(f"{c.what}: {c.detail}" for c in checks)})


def test_a_private_ics_feed_address_never_shows_where_its_events_do(
    tmp_path: Path,
    smtp_server: SmtpServer,
    ics_server: IcsServer,
    prefect_harness: None,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Google's "secret address in iCal format": the key is in the path (and here a query).
    path = f"calendar/ical/team/private-{FEED_CANARY}/basic.ics"
    day = (TODAY + dt.timedelta(days=20)).strftime("%Y%m%d")  # the release ships in 30
    ics_server.feeds[path] = vcalendar(
        vevent(
            "blog-1", f"DTSTART;VALUE=DATE:{day}", "SUMMARY:PROJ 2.4 blog", "X-JIRA-VERSION-ID:100"
        ),
    ).encode()
    seed = tmp_path / "seed"
    seed.mkdir()
    World(seed, "", FakeTicketSink(), None).write()  # type: ignore[arg-type]
    set_canary_environment(monkeypatch, smtp_server.url)
    monkeypatch.setenv("LS_FEED_URL", f"{ics_server.url(path)}?token={FEED_CANARY}")
    state, html = tmp_path / "state.db", tmp_path / "timeline.html"
    config = {
        "jira": {
            "url": "https://jira.test",
            "email": "bot@example.com",
            "api_token": "${LS_JIRA_TOKEN}",
            "projects": ["PROJ"],
        },
        "calendar": {"kind": "ics", "calendar_ids": ["${LS_FEED_URL}"]},
        "alerts": {
            "smtp": "${LS_SMTP_URL}",
            "routes": [{"calendars": ["${LS_FEED_URL}"], "notify": ["pm@example.com"]}],
        },
        "report": {"html": str(html)},
        "state": {"url": f"sqlite:///{state}"},
    }
    config_path = tmp_path / "ics.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    caplog.set_level(logging.DEBUG)
    settings, redactor = load_with_secrets(config_path)
    redactor.install()
    sink = FakeTicketSink()
    with open_runtime(settings, "ics", redactor, seed_dir=seed) as runtime:
        feed = IcsCalendarSource.from_config(settings.calendar, Window.around(TODAY))
        sources = Sources(runtime.sources.releases, feed)
        runtime = dataclasses.replace(runtime, sources=sources, sink=sink)
        report = sync_in_flow(runtime, SyncOptions(today=TODAY))

    assert report.plan is not None
    (found,) = report.plan.divergences  # the feed was read and its event linked
    assert found.event is not None and found.event.title == "PROJ 2.4 blog"
    (mail,) = smtp_server.messages  # the route on the feed's address still matched
    assert_no_canary(
        {
            "plan": json.dumps(report.plan.to_json()),
            "logs": caplog.text + "".join(capsys.readouterr()),
            "artifacts": "".join(artifact_data(f"ics-{k}") for k in ("divergences", "timeline")),
            "HTML report": html.read_text(encoding="utf-8"),
            "tickets": repr(sink.tickets),
            "state store": state_store_text(state),
            "alert": mail.text + mail.html + str(mail.message),
        }
    )
