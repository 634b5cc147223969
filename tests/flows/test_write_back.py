"""Calendar write-back through the whole sync, against the Jira and Google sandboxes.

With `calendar.write_back: true`, an event that was in step with a release follows the
release when it slips; an event whose date a person chose is only marked tentative. The
alert says what launchsync did on the calendar; the next run sees the event aligned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.bootstrap import open_runtime
from flows.redact import Redactor
from flows.sync import SyncOptions, SyncReport
from models.config import Config, RouteConfig
from sandbox.outbox import Outbox
from sandbox.run import RunningSandboxes, running_sandboxes, sandbox_config
from tests.fixtures.google import google_event
from tests.fixtures.jira import jira_version
from tests.fixtures.receivers import HttpReceiver
from tests.flows.running import sync_in_flow

TODAY = dt.date(2026, 11, 23)
SHIPS = TODAY + dt.timedelta(days=10)  # within notice: every divergence alerts at once
CALENDAR = "marketing@example.com"


def blog(eid: str, title: str, day: dt.date, vid: str) -> dict[str, Any]:
    links = {"private": {"jiraVersionId": vid}}
    return google_event(eid, day, title, extendedProperties=links)


@dataclasses.dataclass
class World:
    running: RunningSandboxes
    outbox: Outbox
    config: Config

    def event(self, event_id: str) -> dict[str, Any]:
        return self.running.google.event(CALENDAR, event_id)

    def alert_bodies(self) -> list[str]:
        bodies = []
        for path in self.outbox.messages():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            part = message.get_body(("plain",))
            bodies.append(part.get_content() if part is not None else "")
        return bodies


@pytest.fixture
def world(tmp_path: Path, prefect_harness: None) -> Iterator[World]:
    seed = tmp_path / "seed"
    seed.mkdir()
    jira = {
        "deployment": "Cloud",
        "projects": [
            {
                "key": "PROJ",
                "id": "1",
                "versions": [jira_version("100", "2.4", SHIPS), jira_version("101", "2.5", SHIPS)],
            }
        ],
    }
    calendars = {
        CALENDAR: [
            blog("follows", "PROJ 2.4 blog", SHIPS, "100"),  # in step with its release
            blog("chosen", "PROJ 2.5 blog", SHIPS - dt.timedelta(days=3), "101"),  # not
        ]
    }
    (seed / "jira.json").write_text(json.dumps(jira))
    (seed / "calendars.json").write_text(json.dumps(calendars))
    with running_sandboxes(seed) as running, Outbox(tmp_path / "outbox") as outbox:
        data = sandbox_config(running, f"sqlite:///{tmp_path / 'state.db'}")
        data["calendar"]["write_back"] = True
        data["alerts"] = {"smtp": outbox.url, "routes": [{"notify": ["pmm@example.com"]}]}
        yield World(running, outbox, Config.model_validate(data))


def sync(world: World) -> SyncReport:
    with open_runtime(world.config, "write-back", Redactor()) as runtime:
        report = sync_in_flow(runtime, SyncOptions(today=TODAY))
    assert report.outcome is not None and not report.outcome.failures, report.outcome
    return report


def test_a_chosen_date_is_marked_tentative_and_a_slip_moves_the_event_that_followed(
    world: World,
) -> None:
    first = sync(world)
    assert first.outcome is not None
    assert first.outcome.calendar == [f"{CALENDAR}/chosen: marked the event tentative"]
    chosen = world.event("chosen")
    assert chosen["status"] == "tentative"
    assert chosen["start"] == {"date": (SHIPS - dt.timedelta(days=3)).isoformat()}
    assert world.event("follows")["status"] == "confirmed"

    slipped = SHIPS + dt.timedelta(days=7)
    world.running.jira.move_version("100", slipped)
    second = sync(world)
    assert second.outcome is not None
    assert second.outcome.calendar == [
        f"{CALENDAR}/follows: moved the event to {slipped}, with the release"
    ]
    follows = world.event("follows")
    assert follows["start"] == {"date": slipped.isoformat()}
    assert follows["end"] == {"date": (slipped + dt.timedelta(days=1)).isoformat()}
    assert follows["status"] == "confirmed"
    assert any(
        "PROJ 2.4 blog" in body and f"launchsync moved the event to {slipped}" in body
        for body in world.alert_bodies()
    )

    # The next run reads the moved event: in step again, its ticket resolved, nothing written.
    third = sync(world)
    assert third.outcome is not None and third.outcome.calendar == []
    assert third.plan is not None
    assert [d.event.id for d in third.plan.divergences if d.event] == ["chosen"]
    assert len(third.outcome.resolved) == 1


def test_write_back_off_leaves_the_calendar_alone(world: World) -> None:
    world.config = world.config.model_copy(
        update={"calendar": world.config.calendar.model_copy(update={"write_back": False})}
    )
    before = world.event("chosen")
    report = sync(world)
    assert report.outcome is not None and report.outcome.calendar == []
    assert world.event("chosen") == before


class Died(BaseException):
    """The process ends here, as a kill would end it (no retry, no clean-up)."""


class DiesAfterMoving:
    """The real calendar, in a process that is killed right after it moves an event."""

    def __init__(self, calendar: Any) -> None:
        self.calendar = calendar

    def __getattr__(self, name: str) -> Any:
        return getattr(self.calendar, name)

    def events(self, cursor: Any = None) -> Any:
        return self.calendar.events(cursor)

    def move_event(self, *args: Any, **kwargs: Any) -> Any:
        self.calendar.move_event(*args, **kwargs)
        raise Died

    def mark_tentative(self, *args: Any, **kwargs: Any) -> Any:
        return self.calendar.mark_tentative(*args, **kwargs)


def test_a_run_killed_right_after_moving_an_event_still_tells_its_owners_once(
    world: World, http_receiver: HttpReceiver
) -> None:
    # Owners hear by e-mail and by a webhook whose URL holds its token (kept as a label).
    hook = f"json://127.0.0.1:{http_receiver.port}/hook?token=t0ken-in-the-url"
    routes = (RouteConfig(notify=("pmm@example.com", hook)),)
    alerts = world.config.alerts.model_copy(update={"routes": routes})
    world.config = world.config.model_copy(update={"alerts": alerts})
    sync(world)
    hooked_before = len(http_receiver.requests)
    told_before = len(world.alert_bodies())
    slipped = SHIPS + dt.timedelta(days=7)
    world.running.jira.move_version("100", slipped)
    with open_runtime(world.config, "write-back", Redactor()) as runtime:
        sources = dataclasses.replace(
            runtime.sources, calendar=DiesAfterMoving(runtime.sources.calendar)
        )
        with pytest.raises(Died):
            sync_in_flow(dataclasses.replace(runtime, sources=sources), SyncOptions(today=TODAY))
    assert world.event("follows")["start"] == {"date": slipped.isoformat()}
    assert len(world.alert_bodies()) == told_before  # killed before it could tell anyone

    # The event is aligned again, so nothing diverges: the alert written down before the
    # move is what still tells the owners that their launch moved, once.
    after = sync(world)
    assert after.outcome is not None and len(after.outcome.resolved) == 1
    moved = [b for b in world.alert_bodies() if f"launchsync moved the event to {slipped}" in b]
    assert len(moved) == 1 and "PROJ 2.4 blog" in moved[0]
    hooked = [r.body.decode() for r in http_receiver.requests[hooked_before:]]
    assert len(hooked) == 1 and f"launchsync moved the event to {slipped}" in hooked[0]
    sync(world)
    assert len(world.alert_bodies()) == told_before + 1
    assert len(http_receiver.requests) == hooked_before + 1
