"""A hostile version, issue or event in a seed is named and skipped; the good ones still plan."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from connectors.seed import SeedCalendarSource, SeedReleaseSource
from flows.bootstrap import seed_sources
from flows.planning import build_plan
from models.errors import LaunchsyncError
from tests.fuzz.seeds import (
    BAD_EVENT_BASE,
    BAD_EVENT_ID,
    BAD_ISSUE_ID,
    BAD_ISSUE_KEY,
    BAD_VERSION_BASE,
    BAD_VERSION_ID,
    BAD_VERSION_NAME,
    CALENDAR,
    CONFIG,
    GOOD_EVENTS,
    GOOD_ISSUE,
    GOOD_VERSIONS,
    TODAY,
    assert_good_items_planned,
    assert_readable,
    hostile_events,
    hostile_issues,
    hostile_versions,
    jira_seed,
    names,
    write_seed,
)
from tests.fuzz.strategies import FUZZ, junk

GOOD_IDS = {"101", "102", "PROJ-5", "good-e1", "good-e2"}


def plan_seed(jira: Any, calendars: Any) -> Any:
    """The plan `launchsync plan --from-seed` would print for these seed files."""
    with tempfile.TemporaryDirectory() as directory:
        seed = write_seed(Path(directory), jira, calendars)
        return build_plan(CONFIG, seed_sources(CONFIG, seed), today=TODAY)


def only_problem_about(plan: Any, kept: bool) -> list[Any]:
    """The plan's problems, checked readable; none when the hostile item was kept."""
    for problem in plan.problems:
        assert_readable(problem)
    assert len(plan.problems) == (0 if kept else 1), plan.problems
    return list(plan.problems)


def release_ids(plan: Any) -> set[str]:
    return {d.release.id for d in plan.divergences if d.release}


@FUZZ
@given(st.randoms(), hostile_versions)
def test_a_hostile_version_is_named_and_the_good_ones_still_plan(rnd: Any, bad: Any) -> None:
    assume(not (isinstance(bad, dict) and str(bad.get("id")) in GOOD_IDS))
    versions = [*GOOD_VERSIONS, bad]
    rnd.shuffle(versions)
    plan = plan_seed(jira_seed(versions), {CALENDAR: GOOD_EVENTS})
    assert_good_items_planned(plan)
    for problem in only_problem_about(plan, kept=_kept_version(bad)):
        identity = (("name", BAD_VERSION_NAME), ("id", BAD_VERSION_ID))
        assert names(problem.item, bad, identity, "of PROJ"), problem


def _kept_version(bad: Any) -> bool:
    """Whether the hostile version became a release (it then needs no problem)."""
    with tempfile.TemporaryDirectory() as directory:
        seed = write_seed(Path(directory), jira_seed([bad], []), {})
        batch = SeedReleaseSource(seed, ("PROJ",), None, "duedate").releases()
    return len(batch.items) == 1


@FUZZ
@given(st.randoms(), hostile_issues)
def test_a_hostile_issue_is_named_and_the_good_ones_still_plan(rnd: Any, bad: Any) -> None:
    assume(not (isinstance(bad, dict) and str(bad.get("key")) in GOOD_IDS))
    issues = [GOOD_ISSUE, bad]
    rnd.shuffle(issues)
    plan = plan_seed(jira_seed(GOOD_VERSIONS, issues), {CALENDAR: GOOD_EVENTS})
    assert_good_items_planned(plan)
    with tempfile.TemporaryDirectory() as directory:
        seed = write_seed(Path(directory), jira_seed([], [bad]), {})
        kept = len(SeedReleaseSource(seed, (), "labels = x", "duedate").releases().items) == 1
    for problem in only_problem_about(plan, kept):
        identity = (("key", BAD_ISSUE_KEY), ("id", BAD_ISSUE_ID))
        assert names(problem.item, bad, identity, "issue"), problem


@FUZZ
@given(st.randoms(), hostile_events, st.booleans())
def test_a_hostile_event_is_named_and_the_good_ones_still_plan(
    rnd: Any, bad: Any, with_bad_version: bool
) -> None:
    assume(not (isinstance(bad, dict) and str(bad.get("id")) in GOOD_IDS))
    events = [*GOOD_EVENTS, bad]
    rnd.shuffle(events)
    versions = [*GOOD_VERSIONS, BAD_VERSION_BASE] if with_bad_version else GOOD_VERSIONS
    plan = plan_seed(jira_seed(versions), {CALENDAR: events})
    assert_good_items_planned(plan)
    with tempfile.TemporaryDirectory() as directory:
        seed = write_seed(Path(directory), {}, {CALENDAR: [bad]})
        kept = len(SeedCalendarSource(seed, (CALENDAR,)).events().items) == 1
    for problem in only_problem_about(plan, kept):
        identity = (("id", BAD_EVENT_ID), ("summary", str(BAD_EVENT_BASE["summary"])))
        assert names(problem.item, bad, identity, f"calendar {CALENDAR}"), problem


@FUZZ
@given(st.lists(st.sampled_from(["101", "102", BAD_VERSION_ID]), min_size=1, max_size=4))
def test_duplicated_ids_still_plan_every_good_item(duplicates: list[str]) -> None:
    """The same version or event id twice (a merged export) never loses the others."""
    copies = [{**BAD_VERSION_BASE, "id": i, "name": f"dup-{n}"} for n, i in enumerate(duplicates)]
    event_copies = [{**GOOD_EVENTS[1], "summary": f"copy {n}"} for n in range(len(duplicates))]
    plan = plan_seed(
        jira_seed([*GOOD_VERSIONS, *copies], [GOOD_ISSUE, GOOD_ISSUE]),
        {CALENDAR: [*GOOD_EVENTS, *event_copies]},
    )
    assert {"PROJ-5"} <= release_ids(plan)
    assert {d.event.id for d in plan.divergences if d.event} >= {"good-e2"}
    for problem in plan.problems:
        assert_readable(problem)


def _shapes() -> st.SearchStrategy[tuple[Any, Any]]:
    """Whole seed files of the wrong shape: lists, numbers, wrong-typed sections."""
    project = st.fixed_dictionaries({"key": st.just("PROJ")}, optional={"versions": junk})
    jira = junk | st.fixed_dictionaries(
        {},
        optional={
            "projects": junk | st.lists(project | junk, max_size=2),
            "issues": junk,
            "fields": junk,
        },
    )
    calendars = junk | st.dictionaries(st.just(CALENDAR), junk)
    return st.tuples(jira, calendars)


@FUZZ
@given(_shapes())
def test_a_seed_file_of_the_wrong_shape_is_one_line_naming_the_file(files: tuple[Any, Any]) -> None:
    """Either the seed plans (bad parts named as problems) or one error names the file."""
    jira, calendars = files
    try:
        plan = plan_seed(jira, calendars)
    except LaunchsyncError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) <= 400, message
        assert "jira.json" in message or "calendars.json" in message, message
        return
    for problem in plan.problems:
        assert_readable(problem)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("jira.json", '{"projects": [{"key": "PROJ", "versions": ['),
        ("jira.json", "\ufeff{}"),
        ("calendars.json", "\x00"),
        ("calendars.json", "NaN"),
    ],
)
def test_a_seed_file_that_is_not_json_names_the_file(tmp_path: Path, name: str, text: str) -> None:
    seed = write_seed(tmp_path, jira_seed(), {CALENDAR: GOOD_EVENTS})
    (seed / name).write_text(text, encoding="utf-8")
    with pytest.raises(LaunchsyncError) as caught:
        build_plan(CONFIG, seed_sources(CONFIG, seed), today=TODAY)
    assert str(seed / name) in str(caught.value)
    assert "\n" not in str(caught.value)
