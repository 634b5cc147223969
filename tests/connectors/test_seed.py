"""Offline what-if runs read the vendors' own JSON from a seed directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.seed import SeedCalendarSource, SeedReleaseSource
from models.errors import SeedError

VERSION = {"id": "1", "name": "2.4", "releaseDate": "2026-12-01", "released": False}
ISSUE = {"id": "9", "key": "PROJ-9", "fields": {"summary": "SSO", "customfield_1": "2026-12-05"}}
EVENT = {
    "id": "e1",
    "summary": "PROJ 2.4 launch",
    "start": {"date": "2026-12-01"},
    "end": {"date": "2026-12-02"},
}


def write_seed(tmp_path: Path, jira: object, calendars: object) -> Path:
    (tmp_path / "jira.json").write_text(json.dumps(jira))
    (tmp_path / "calendars.json").write_text(json.dumps(calendars))
    return tmp_path


def test_versions_and_issues_read_with_a_custom_field_named_by_name(tmp_path: Path) -> None:
    seed = write_seed(
        tmp_path,
        {
            "deployment": "Cloud",
            "fields": [{"id": "customfield_1", "name": "Launch date"}],
            "projects": [{"key": "PROJ", "id": "1", "versions": [VERSION]}],
            "issues": [ISSUE],
        },
        {},
    )
    batch = SeedReleaseSource(seed, ("PROJ",), "labels = launch", "launch date").releases()
    assert [(r.id, str(r.date)) for r in batch.items] == [
        ("1", "2026-12-01"),
        ("PROJ-9", "2026-12-05"),
    ]
    assert batch.problems == ()


def test_a_malformed_date_is_reported_by_item_and_the_others_still_read(tmp_path: Path) -> None:
    bad = {**VERSION, "id": "2", "name": "2.5", "releaseDate": "2026-13-01"}
    seed = write_seed(tmp_path, {"projects": [{"key": "PROJ", "versions": [bad, VERSION]}]}, {})
    batch = SeedReleaseSource(seed, ("PROJ",), None, "duedate").releases()
    assert [r.id for r in batch.items] == ["1"]
    (problem,) = batch.problems
    assert problem.item == "version 2.5 of PROJ"
    assert problem.error == "releaseDate '2026-13-01' is not a date; use YYYY-MM-DD"


def test_a_version_without_a_name_and_a_missing_project_are_named(tmp_path: Path) -> None:
    seed = write_seed(tmp_path, {"projects": [{"key": "PROJ", "versions": [{"id": "3"}]}]}, {})
    batch = SeedReleaseSource(seed, ("PROJ", "NOPE"), None, "duedate").releases()
    assert batch.items == ()
    assert [p.item for p in batch.problems] == ["version 3 of PROJ", "project NOPE"]
    assert "fix jira.projects" in batch.problems[1].error


def test_bad_events_and_unknown_calendars_are_named_the_rest_still_read(tmp_path: Path) -> None:
    no_start = {"id": "e2", "summary": "Webinar"}
    bad_date = {"id": "e3", "summary": "Blog", "start": {"date": "someday"}}
    seed = write_seed(tmp_path, {}, {"cal": [no_start, EVENT, bad_date, "junk"]})
    batch = SeedCalendarSource(seed, ("cal", "ghost@example.com")).events()
    assert [e.id for e in batch.items] == ["e1"]
    assert [p.item for p in batch.problems] == [
        "event e2 in calendar cal",
        "event e3 in calendar cal",
        "an event in calendar cal",
        "calendar ghost@example.com",
    ]
    assert batch.problems[0].error == "has no start; give it start.date or start.dateTime"


def test_a_broken_seed_file_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "jira.json").write_text('{"projects": [\n  {"key": }\n]}')
    with pytest.raises(SeedError, match=r"jira.json: line 2 column 11"):
        SeedReleaseSource(tmp_path, ("PROJ",), None, "duedate").releases()
