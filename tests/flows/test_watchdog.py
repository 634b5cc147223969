"""The freshness watchdog against the Google sandbox: push channels stay open, and blindness
reaches the operators once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.bootstrap import Runtime, open_runtime
from flows.redact import Redactor
from flows.watchdog import WEBHOOK_PATH, watch
from models.config import Config
from sandbox.demo_seed import write_demo_seed
from sandbox.run import RunningSandboxes, running_sandboxes, sandbox_config
from tests.fakes import FakeNotifier
from tests.fixtures.receivers import HttpReceiver

TOKEN = "google-channel-token-for-test"
OPS = "ops@example.com"


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[RunningSandboxes]:
    write_demo_seed(tmp_path / "seed", dt.date(2026, 11, 23))
    with running_sandboxes(tmp_path / "seed") as running:
        yield running


@pytest.fixture
def runtime(
    sandboxes: RunningSandboxes, http_receiver: HttpReceiver, tmp_path: Path
) -> Iterator[Runtime]:
    data = sandbox_config(sandboxes, f"sqlite:///{tmp_path / 'state.db'}")
    data["webhooks"] = {"google_token": TOKEN, "public_url": http_receiver.url}
    data["alerts"] = {"operators": [OPS]}
    data["freshness"] = {"channel_renew_hours": 24}
    config = Config.model_validate(data)
    with open_runtime(config, "watchdog-test", Redactor()) as opened:
        yield dataclasses.replace(opened, notifier=FakeNotifier())


def test_the_watchdog_opens_a_channel_per_calendar_and_renews_it_before_it_lapses(
    runtime: Runtime, sandboxes: RunningSandboxes, http_receiver: HttpReceiver
) -> None:
    now = dt.datetime.now(dt.UTC)
    first = watch(runtime, now)
    assert first.renewed == list(runtime.config.calendar.calendar_ids) and first.failures == []
    (channel,) = runtime.store.channels("watchdog-test")
    sandboxes.google.push.wait_idle()
    # Google's first message on a new channel: "sync", carrying our token to our address.
    (hello,) = [r for r in http_receiver.requests if r.path == WEBHOOK_PATH]
    assert hello.headers["x-goog-resource-state"] == "sync"
    assert hello.headers["x-goog-channel-token"] == TOKEN
    assert watch(runtime, now).renewed == []  # still days to go: nothing to do
    later = channel.expires_at - dt.timedelta(hours=1)
    assert watch(runtime, later).renewed == [channel.calendar_id]
    (renewed,) = runtime.store.channels("watchdog-test")
    assert renewed.channel_id != channel.channel_id
    # The old channel was stopped at Google, so it sends nothing more.
    assert set(sandboxes.google.push.channels) == {renewed.channel_id}


def test_no_successful_sync_alerts_the_operators_once_per_episode(runtime: Runtime) -> None:
    now = dt.datetime.now(dt.UTC)
    assert watch(runtime, now).blind == []  # nothing has run yet: nothing to be blind to
    runtime.store.record_read("watchdog-test", "jira", error="jira search failed", status=502)
    report = watch(runtime, now)
    assert [b.source for b in report.blind] == ["sync"]
    notifier = runtime.notifier
    assert isinstance(notifier, FakeNotifier)
    (alert,) = notifier.sent[OPS]
    assert "blind to sync" in alert.subject and "no successful sync ever" in alert.body
    watch(runtime, now + dt.timedelta(minutes=5))
    assert len(notifier.sent[OPS]) == 1
    runtime.store.record_run("watchdog-test", now, now, "success", {})
    assert watch(runtime, now + dt.timedelta(minutes=10)).blind == []
