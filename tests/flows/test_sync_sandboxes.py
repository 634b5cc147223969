"""The whole `sync_launch_calendar` flow, as a deployment runs it, against the sandboxes.

The Jira and Google Calendar emulators, the real Jira ticket sink, the real e-mail notifier
into an SMTP server, a SQLite state store, and the flow reading its config file: what the
launch owner and the Jira project would see over a divergence's life.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.sync import SyncReport, sync_launch_calendar
from sandbox.google_calendar.routes import html_link
from sandbox.run import RunningSandboxes, running_sandboxes, sandbox_config
from tests.fixtures.google import google_event
from tests.fixtures.jira import jira_version
from tests.fixtures.receivers import ReceivedMail, SmtpServer

TODAY = dt.date(2026, 11, 23)
SHIPS = TODAY + dt.timedelta(days=10)  # inside the notice window: every alert goes at once
CALENDAR = "marketing@example.com"
OWNER = "pmm@example.com"


@dataclasses.dataclass
class World:
    running: RunningSandboxes
    smtp: SmtpServer
    config_path: Path

    def tickets(self) -> list[dict[str, Any]]:
        """Issues launchsync opened in the sandbox Jira."""
        issues = self.running.jira.issues.values()
        return [i for i in issues if "launchsync" in (i["fields"].get("labels") or [])]

    def mail(self) -> list[ReceivedMail]:
        return list(self.smtp.messages)


@pytest.fixture
def world(
    tmp_path: Path, prefect_harness: None, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    seed = tmp_path / "seed"
    seed.mkdir()
    jira = {
        "deployment": "Cloud",
        "projects": [{"key": "PROJ", "id": "1", "versions": [jira_version("100", "2.4", SHIPS)]}],
    }
    blog = google_event(
        "blog",
        SHIPS - dt.timedelta(days=3),  # a blog post goes out on release day: 3 days early
        "PROJ 2.4 blog",
        extendedProperties={"private": {"jiraVersionId": "100"}},
    )
    (seed / "jira.json").write_text(json.dumps(jira))
    (seed / "calendars.json").write_text(json.dumps({CALENDAR: [blog]}))
    with running_sandboxes(seed) as running:
        config = sandbox_config(running, f"sqlite:///{tmp_path / 'state.db'}")
        # A config file may not hold the SMTP password: it comes from the environment.
        monkeypatch.setenv("LAUNCHSYNC_TEST_SMTP_URL", smtp_server.url)
        smtp = "${LAUNCHSYNC_TEST_SMTP_URL}"
        config["alerts"] = {"smtp": smtp, "routes": [{"notify": [OWNER]}]}
        path = tmp_path / "launch.yaml"
        path.write_text(yaml.safe_dump(config))
        yield World(running, smtp_server, path)


def sync(world: World) -> SyncReport:
    report = sync_launch_calendar(config=str(world.config_path), today=TODAY)
    assert report.outcome is not None and report.outcome.failures == [], report.outcome
    return report


def test_a_divergence_is_ticketed_told_followed_up_resolved_and_then_left_alone(
    world: World,
) -> None:
    sync(world)
    (ticket,) = world.tickets()
    key, jira = ticket["key"], world.running.jira_url
    (first,) = world.mail()
    assert first.rcpt_tos == (OWNER,)
    assert "PROJ 2.4 blog is 3 days before the release" in first.subject
    link = f'<a href="{jira}/browse/{key}">{key}</a>'
    assert link in first.html
    google = world.running.google_endpoint.removesuffix("calendar/v3/")
    event_url = html_link(google, CALENDAR, "blog")
    assert f'<a href="{event_url}">PROJ 2.4 blog</a>' in first.html

    slipped = SHIPS + dt.timedelta(days=4)
    world.running.jira.move_version("100", slipped)
    sync(world)
    assert [t["key"] for t in world.tickets()] == [key]
    (comment,) = world.running.jira.comments(key)
    assert str(slipped) in str(comment["body"])
    first_again, follow_up = world.mail()
    assert first_again.subject == first.subject
    assert "PROJ 2.4 blog is 7 days before the release" in follow_up.subject
    seen = rf"PROJ 2.4 moved from {SHIPS} to {slipped}, seen \d{{4}}-\d\d-\d\d \d\d:\d\d UTC"
    assert re.search(seen, follow_up.text), follow_up.text
    assert link in follow_up.html  # the follow-up links the ticket the first run opened

    world.running.google.move_event(CALENDAR, "blog", slipped)  # marketing follows
    sync(world)
    status = world.running.jira.issues[key]["fields"]["status"]
    assert status["statusCategory"]["key"] == "done"
    assert len(world.mail()) == 2  # aligned again: the ticket says so, nobody is paged

    quiet = sync(world)
    assert quiet.outcome is not None
    assert quiet.outcome.summary() == dict.fromkeys(quiet.outcome.summary(), 0)
    assert len(world.tickets()) == 1 and len(world.running.jira.comments(key)) == 1
    assert len(world.mail()) == 2
