"""Reading both sides into the stored snapshot, against the Jira and Google sandboxes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.bootstrap import Runtime, open_runtime
from flows.fetching import Fetched, fetch
from flows.redact import Redactor
from models.config import Config
from models.dates import zone
from models.plan import Plan
from models.reconcile import reconcile
from sandbox.faults import Fault, FaultKind
from sandbox.run import RunningSandboxes, running_sandboxes, sandbox_config
from tests.fixtures.google import google_event
from tests.fixtures.jira import jira_version

TODAY = dt.date(2026, 11, 23)
SHIPS = TODAY + dt.timedelta(days=20)
NOW = dt.datetime(2026, 11, 23, 17, tzinfo=dt.UTC)
BLOGS, WEBINARS = "blogs@example.com", "webinars@example.com"


def launch(event_id: str, version_id: str, day: dt.date) -> dict[str, object]:
    links = {"private": {"jiraVersionId": version_id}}
    return google_event(event_id, day, f"launch of {version_id}", extendedProperties=links)


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[tuple[RunningSandboxes, Config]]:
    seed = tmp_path / "seed"
    seed.mkdir()
    versions = [jira_version("100", "2.4", SHIPS), jira_version("101", "2.5", SHIPS)]
    jira = {"deployment": "Cloud", "projects": [{"key": "PROJ", "id": "1", "versions": versions}]}
    calendars = {
        BLOGS: [launch("blog", "100", SHIPS)],
        WEBINARS: [launch("webinar", "101", SHIPS + dt.timedelta(days=7))],
    }
    (seed / "jira.json").write_text(json.dumps(jira))
    (seed / "calendars.json").write_text(json.dumps(calendars))
    with running_sandboxes(seed) as running:
        config = sandbox_config(running, f"sqlite:///{tmp_path / 'state.db'}")
        yield running, Config.model_validate(config)


def read(config: Config, *, full: bool = False) -> tuple[Fetched, Plan]:
    with open_runtime(config, "fetching", Redactor()) as runtime:
        fetched = fetch(runtime, full=full, persist=True, now=NOW)
        return fetched, plan_of(runtime, fetched)


def plan_of(runtime: Runtime, fetched: Fetched) -> Plan:
    return reconcile(
        fetched.releases,
        fetched.events,
        runtime.config.policy,
        today=TODAY,
        business_zone=zone(runtime.config.timezone),
        generated_at=NOW,
        problems=fetched.problems,
    )


def missing(plan: Plan) -> list[str]:
    return [d.release.id for d in plan.divergences if d.kind == "missing_event" and d.release]


@pytest.mark.parametrize("full", [True, False], ids=["full read", "incremental read"])
def test_a_calendar_gone_missing_keeps_its_last_events_and_is_named_as_a_problem(
    sandboxes: tuple[RunningSandboxes, Config], full: bool
) -> None:
    running, config = sandboxes
    first, plan = read(config)
    assert {e.id for e in first.events} == {"blog", "webinar"} and missing(plan) == []
    # The webinars calendar is unshared: Google answers 404 for it from now on.
    gone = Fault(kind=FaultKind.STATUS, status=404, path=r"/calendars/webinars(@|%40)", times=None)
    running.google.faults.add(gone)
    running.google.cancel_event(BLOGS, "blog")
    fetched, plan = read(config, full=full)
    assert [e.id for e in fetched.events] == ["webinar"]  # kept; the blog deletion is seen
    assert missing(plan) == ["100"]  # not "101": its webinar is not taken for deleted
    assert [p.item for p in fetched.problems] == [f"calendar {WEBINARS}"]
    assert [p.item for p in plan.problems] == [f"calendar {WEBINARS}"]
    assert fetched.failed == []  # the other calendar and Jira were read: nothing is blind


def test_a_calendar_back_after_missing_is_read_again_with_its_changes(
    sandboxes: tuple[RunningSandboxes, Config],
) -> None:
    running, config = sandboxes
    read(config)
    running.google.faults.add(Fault(kind=FaultKind.STATUS, status=404, path="webinars"))
    read(config, full=True)
    running.google.cancel_event(WEBINARS, "webinar")
    fetched, plan = read(config)
    assert [e.id for e in fetched.events] == ["blog"] and fetched.problems == []
    assert missing(plan) == ["101"]
