"""The freshness watchdog against the Google sandbox: push channels stay open, and blindness
reaches the operators once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import yaml
from prefect.artifacts import Artifact
from pydantic import SecretStr

from connectors.state_store import StateStore, utc_now
from deployments.webhooks import ReceiverSettings, build_receiver
from flows.bootstrap import Runtime, open_runtime
from flows.fetching import fetch
from flows.redact import Redactor
from flows.watchdog import WEBHOOK_PATH, WatchReport, watch
from models.config import Config
from sandbox.demo_seed import write_demo_seed
from sandbox.faults import Fault
from sandbox.jira.webhooks import Webhook
from sandbox.run import RunningSandboxes, running_sandboxes, sandbox_config
from sandbox.server import ServedApp, free_port
from tests.fakes import FakeNotifier, FakeTicketSink
from tests.fixtures.receivers import HttpReceiver
from tests.flows.test_sync_flow import World, sync

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


# --- webhooks that stop arriving, failed renewals ------------------------------------------

JIRA_SECRET = "jira-webhook-secret-for-test"
KEY = "watchdog-test"
LATER = dt.timedelta(hours=1)  # past the default 30 minutes of webhook silence


@contextmanager
def launchsync_receiver(
    state_url: str, port: int = 0, clock: Callable[[], dt.datetime] = utc_now
) -> Iterator[ServedApp]:
    """The real receiver, noting each source's last webhook in the state store."""
    settings = ReceiverSettings(
        config_key=KEY,
        jira_secret=SecretStr(JIRA_SECRET),
        google_token=SecretStr(TOKEN),
        coalesce_seconds=0.05,
    )
    with StateStore.open(state_url, clock=clock) as store:
        app = build_receiver(settings, lambda notice: None, lambda s: store.record_webhook(KEY, s))
        with ServedApp(app, port) as served:
            yield served


def webhook_runtime(
    sandboxes: RunningSandboxes, tmp_path: Path, webhooks: dict[str, str]
) -> AbstractContextManager[Runtime]:
    data = sandbox_config(sandboxes, f"sqlite:///{tmp_path / 'state.db'}")
    data["webhooks"] = webhooks
    data["alerts"] = {"operators": [OPS]}
    return open_runtime(Config.model_validate(data), KEY, Redactor())


def blind_to(report: WatchReport) -> dict[str, str]:
    return {b.source: b.reason for b in report.blind}


def ops_alerts(runtime: Runtime) -> list[str]:
    assert isinstance(runtime.notifier, FakeNotifier)
    return [a.subject for a in runtime.notifier.sent.get(OPS, [])]


def synced(runtime: Runtime, now: dt.datetime) -> None:
    """What a sync does that the watchdog judges: read both sides, record a good run."""
    fetch(runtime, full=False, persist=True, now=now)
    runtime.store.record_run(KEY, now, now, "success", {})


def test_jira_webhooks_that_stop_arriving_make_launchsync_blind_and_tell_operators_once(
    sandboxes: RunningSandboxes, tmp_path: Path
) -> None:
    state = f"sqlite:///{tmp_path / 'state.db'}"
    (version_id, *_) = sandboxes.jira.versions
    now = dt.datetime.now(dt.UTC)
    with webhook_runtime(sandboxes, tmp_path, {"jira_secret": JIRA_SECRET}) as opened:
        runtime = dataclasses.replace(opened, notifier=FakeNotifier())
        synced(runtime, now)  # the first read is a full one: no change to judge yet
        with launchsync_receiver(state) as receiver:
            sandboxes.jira.hub.register(Webhook(f"{receiver.url}/webhooks/jira", JIRA_SECRET))
            sandboxes.jira.move_version(version_id, dt.date(2027, 1, 15))
            sandboxes.jira.hub.wait_idle()
        assert sandboxes.jira.deliveries[-1].statuses == [202]
        synced(runtime, now)
        assert "webhook:jira" not in blind_to(watch(runtime, now))  # the change was announced
        # The receiver is gone: Jira's next webhook is lost, and an hour later a sync sees it.
        sandboxes.jira.move_version(version_id, dt.date(2027, 2, 1))
        sandboxes.jira.hub.wait_idle()
        assert sandboxes.jira.deliveries[-1].statuses == [None]
        synced(runtime, now + LATER)
        report = watch(runtime, now + LATER)
        reason = blind_to(report)["webhook:jira"]
        assert "webhooks stopped arriving" in reason and "the last one at 20" in reason
        watch(runtime, now + LATER + dt.timedelta(minutes=5))
        assert len([s for s in ops_alerts(runtime) if "webhook:jira" in s]) == 1


def test_a_live_google_channel_whose_notifications_stop_is_blindness_until_they_return(
    sandboxes: RunningSandboxes, tmp_path: Path
) -> None:
    state = f"sqlite:///{tmp_path / 'state.db'}"
    calendar_id = sandboxes.calendar_ids[0]
    event_id = sandboxes.google.store.snapshot(calendar_id)[1][0].resource["id"]
    port = free_port()
    hooks = {"google_token": TOKEN, "public_url": f"http://127.0.0.1:{port}"}
    now = dt.datetime.now(dt.UTC)
    two_hours_ago = lambda: utc_now() - dt.timedelta(hours=2)  # noqa: E731
    with webhook_runtime(sandboxes, tmp_path, hooks) as opened:
        runtime = dataclasses.replace(opened, notifier=FakeNotifier())
        synced(runtime, now)
        with launchsync_receiver(state, port, clock=two_hours_ago):
            watch(runtime, now)  # opens the channel; Google's `sync` message is heard
            sandboxes.google.push.wait_idle()
        source = f"webhook:google:{calendar_id}"
        assert source not in blind_to(watch(runtime, now))  # a quiet calendar is not blindness
        # The receiver is unreachable: the channel lives, but the change's message is lost.
        sandboxes.google.edit_event(calendar_id, event_id, summary="Launch webinar (moved)")
        sandboxes.google.push.wait_idle()
        synced(runtime, now)
        assert "webhooks stopped arriving" in blind_to(watch(runtime, now))[source]
        assert len([s for s in ops_alerts(runtime) if source in s]) == 1
        with launchsync_receiver(state, port):  # back: the next change is announced again
            sandboxes.google.edit_event(calendar_id, event_id, summary="Launch webinar")
            sandboxes.google.push.wait_idle()
        assert source not in blind_to(watch(runtime, now))


def test_a_failed_channel_renewal_is_blindness_alerted_once_until_a_renewal_succeeds(
    runtime: Runtime, sandboxes: RunningSandboxes
) -> None:
    now = dt.datetime.now(dt.UTC)
    runtime.store.record_run(KEY, now, now, "success", {})
    sandboxes.google.faults.add(Fault(kind="status", path="/watch$", status=401, times=None))
    source = f"push:{runtime.config.calendar.calendar_ids[0]}"
    first = watch(runtime, now)
    assert "could not open or renew the Google push channel" in blind_to(first)[source]
    assert "credentials" in blind_to(first)[source]  # the cause, for the operator
    watch(runtime, now + dt.timedelta(minutes=5))
    assert len([s for s in ops_alerts(runtime) if source in s]) == 1
    sandboxes.google.faults.clear()
    assert source not in blind_to(watch(runtime, now + dt.timedelta(minutes=10)))


# --- while blind, every output says launches are unknown -----------------------------------


def artifact(key: str) -> str:
    """The latest Prefect artifact with this key: description and data."""
    found = Artifact.get(key)
    assert found is not None and not inspect.isawaitable(found)
    return f"{found.description}\n{found.data}"


def test_while_blind_the_artifacts_and_the_html_report_say_launches_are_unknown(
    tmp_path: Path, prefect_harness: None
) -> None:
    seed, html = tmp_path / "seed", tmp_path / "timeline.html"
    seed.mkdir()
    config = {
        "timezone": "America/Los_Angeles",
        "jira": {"url": "https://jira.test", "projects": ["PROJ"]},
        "calendar": {"calendar_ids": ["marketing@example.com"]},
        "report": {"html": str(html)},
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
    }
    world = World(seed, yaml.safe_dump(config), FakeTicketSink(), FakeNotifier())
    world.blog_day = world.release_day  # in step
    world.write()
    sync(world)
    assert "| ok |" in artifact("test-timeline") and 'class="pill ok"' in html.read_text()
    assert "unknown" not in artifact("test-summary") + artifact("test-divergences")
    (seed / "jira.json").write_text("{ not json")  # Jira cannot be read
    report = sync(world)
    assert report.plan is not None and report.plan.status == "unknown"
    for key in ("test-summary", "test-divergences", "test-timeline"):
        assert "launches are unknown" in artifact(key).lower(), key
    assert "| ok |" not in artifact("test-timeline") and "| unknown |" in artifact("test-timeline")
    page = html.read_text()
    assert "Launches are unknown" in page and 'class="pill unknown"' in page
    assert 'class="pill ok"' not in page
