"""Seed directories of good items plus one hostile item, and what a user checks in a plan."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from models.config import Config
from models.plan import ItemProblem, Plan
from tests.fuzz.strategies import dates, junk, mutated, nasty_text, zones

TODAY = dt.date(2026, 11, 23)
CALENDAR = "cal"
BAD_VERSION_ID, BAD_VERSION_NAME = "66601", "9.9-fuzz"
BAD_ISSUE_ID, BAD_ISSUE_KEY = "77701", "PROJ-777"
BAD_EVENT_ID = "fuzz-event-1"
MAX_PROBLEM_CHARS = 400  # a problem is a line a person reads, not a dump of the input


def day(offset: int) -> str:
    """TODAY shifted by `offset` days, as Jira and Google write a date."""
    return (TODAY + dt.timedelta(days=offset)).isoformat()


GOOD_VERSIONS = [
    {"id": "101", "name": "1.1", "releaseDate": day(10), "released": False, "archived": False},
    {"id": "102", "name": "1.2", "releaseDate": day(20), "released": False, "archived": False},
]
GOOD_ISSUE = {
    "id": "20005",
    "key": "PROJ-5",
    "fields": {
        "summary": "Single sign-on",
        "duedate": day(30),
        "project": {"key": "PROJ"},
        "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
        "updated": "2026-11-01T09:00:00.000+0000",
    },
}
# good-e1 is a blog post three days after release 101 (a date_mismatch); good-e2 links to a
# release that does not exist (an orphan_event): both must show up in every plan.
GOOD_EVENTS = [
    {
        "id": "good-e1",
        "status": "confirmed",
        "summary": "Launch blog alpha",
        "start": {"date": day(13)},
        "end": {"date": day(14)},
        "extendedProperties": {"private": {"jiraVersionId": "101", "launchType": "blog"}},
    },
    {
        "id": "good-e2",
        "status": "confirmed",
        "summary": "Webinar beta",
        "start": {"dateTime": f"{day(40)}T10:00:00-08:00", "timeZone": "America/Los_Angeles"},
        "end": {"dateTime": f"{day(40)}T11:00:00-08:00"},
        "extendedProperties": {"shared": {"jiraVersionId": "999"}},
    },
]
BAD_VERSION_BASE = {
    "id": BAD_VERSION_ID,
    "name": BAD_VERSION_NAME,
    "releaseDate": day(5),
    "released": False,
    "archived": False,
}
BAD_ISSUE_BASE = {**GOOD_ISSUE, "id": BAD_ISSUE_ID, "key": BAD_ISSUE_KEY}
# The hostile event links to the hostile version as a webinar (+7 days), so absurd dates on
# either side reach the reconciler's date arithmetic.
BAD_EVENT_BASE = {
    "id": BAD_EVENT_ID,
    "status": "confirmed",
    "summary": "Launch webinar fuzz",
    "start": {"dateTime": f"{day(12)}T10:00:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": f"{day(12)}T11:00:00", "timeZone": "Europe/Berlin"},
    "extendedProperties": {"private": {"jiraVersionId": BAD_VERSION_ID, "launchType": "webinar"}},
}


@st.composite
def event_times(draw: st.DrawFn) -> dict[str, Any]:
    """A Google `EventDateTime` with hostile dates and zones."""
    when: dict[str, Any] = {}
    for key, values in (("date", dates), ("dateTime", dates), ("timeZone", zones)):
        if draw(st.booleans()):
            when[key] = draw(values)
    return when


VERSION_FIELDS: Mapping[str, st.SearchStrategy[Any]] = {
    "id": nasty_text,
    "name": nasty_text,
    "releaseDate": dates,
    "released": junk,
    "archived": junk,
    "startDate": dates,
}
ISSUE_FIELDS: Mapping[str, st.SearchStrategy[Any]] = {
    "id": nasty_text,
    "key": nasty_text,
    "fields": st.fixed_dictionaries(
        {},
        optional={
            "summary": nasty_text,
            "duedate": dates,
            "project": junk,
            "status": junk | st.fixed_dictionaries({"statusCategory": junk}),
            "assignee": junk,
            "updated": dates,
        },
    ),
}
EVENT_FIELDS: Mapping[str, st.SearchStrategy[Any]] = {
    "id": nasty_text,
    "status": st.sampled_from(["confirmed", "tentative", "cancelled", "deleted"]),
    "summary": nasty_text,
    "description": nasty_text,
    "start": event_times(),
    "end": event_times(),
    "extendedProperties": junk
    | st.fixed_dictionaries({"private": junk, "shared": st.dictionaries(nasty_text, junk)}),
    "organizer": junk,
    "htmlLink": junk,
    "updated": dates,
}
hostile_versions = mutated(BAD_VERSION_BASE, VERSION_FIELDS)
hostile_issues = mutated(BAD_ISSUE_BASE, ISSUE_FIELDS)
hostile_events = mutated(BAD_EVENT_BASE, EVENT_FIELDS)


def jira_seed(
    versions: Sequence[Any] = GOOD_VERSIONS, issues: Sequence[Any] = (GOOD_ISSUE,)
) -> dict[str, Any]:
    """A jira.json with the one project PROJ."""
    return {
        "deployment": "Cloud",
        "projects": [{"key": "PROJ", "id": "10000", "name": "Project", "versions": list(versions)}],
        "issues": list(issues),
    }


def write_seed(directory: Path, jira: Any, calendars: Any) -> Path:
    """Write jira.json and calendars.json as JSON text (lone surrogates become escapes)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "jira.json").write_text(json.dumps(jira), encoding="utf-8")
    (directory / "calendars.json").write_text(json.dumps(calendars), encoding="utf-8")
    return directory


CONFIG = Config.model_validate(
    {
        "timezone": "America/Los_Angeles",
        "jira": {
            "url": "https://example.atlassian.net",
            "projects": ["PROJ"],
            "issue_jql": "labels = launch",
        },
        "calendar": {"calendar_ids": [CALENDAR]},
    }
)
CONFIG_YAML = """\
timezone: America/Los_Angeles
jira:
  url: https://example.atlassian.net
  projects: [PROJ]
  issue_jql: labels = launch
calendar:
  calendar_ids: [cal]
state: {url: "sqlite:///:memory:"}
"""


def assert_good_items_planned(plan: Plan | dict[str, Any]) -> None:
    """The good items' divergences are all there, whatever happened to the hostile one."""
    data = plan.to_json() if isinstance(plan, Plan) else plan
    found = {
        (
            d["kind"],
            d["release"]["id"] if d["release"] else None,
            d["event"]["id"] if d["event"] else None,
        )
        for d in data["divergences"]
    }
    assert {
        ("date_mismatch", "101", "good-e1"),
        ("missing_event", "102", None),
        ("missing_event", "PROJ-5", None),
        ("orphan_event", None, "good-e2"),
    } <= found


def assert_readable(problem: ItemProblem | Mapping[str, str]) -> str:
    """One short line; returns it as a person would read it."""
    item, error = (
        (problem.item, problem.error)
        if isinstance(problem, ItemProblem)
        else (problem["item"], problem["error"])
    )
    line = f"{item}: {error}"
    assert "\n" not in line and "\r" not in line and "\x00" not in line, line
    assert len(line) <= MAX_PROBLEM_CHARS, line[:500]
    assert error.strip(), line
    return line


def names(problem_item: str, item: Any, identity: Sequence[tuple[str, str]], fallback: str) -> bool:
    """Whether a problem names the item: by the first identity field that is still intact
    (the field it is known by), else by its container (`fallback`)."""
    if isinstance(item, dict):
        for key, original in identity:
            if item.get(key) == original:
                return original in problem_item
            if item.get(key) not in (None, ""):
                break  # a hostile value is shown instead; only the container is sure
    return fallback in problem_item
