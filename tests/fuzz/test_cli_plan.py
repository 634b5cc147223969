"""`launchsync plan --from-seed` as a user runs it, with hostile seed files and arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.seeds import (
    CALENDAR,
    CONFIG_YAML,
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
    write_seed,
)
from tests.fuzz.strategies import SLOW_FUZZ

ROOT = Path(__file__).resolve().parents[2]


def launchsync(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a real process; output decoded leniently so that any byte is visible."""
    env = {**os.environ, "COLUMNS": "200", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        check=False,
    )


def plan_in(directory: Path, output: str, *extra: str) -> subprocess.CompletedProcess[str]:
    config = directory / "launchsync.yaml"
    config.write_text(CONFIG_YAML, encoding="utf-8")
    return launchsync(
        "plan",
        "--config",
        str(config),
        "--from-seed",
        str(directory),
        "--today",
        TODAY.isoformat(),
        "--format",
        output,
        *extra,
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-2000:]


@SLOW_FUZZ
@given(hostile_versions, hostile_issues, hostile_events, st.sampled_from(["json", "table"]))
def test_plan_skips_hostile_items_with_a_note_and_prints_the_rest(
    version: Any, issue: Any, event: Any, output: str
) -> None:
    """Exit 0, the good items' divergences printed, each bad item one readable line."""
    with tempfile.TemporaryDirectory() as directory:
        seed = write_seed(
            Path(directory),
            jira_seed([*GOOD_VERSIONS, version], [GOOD_ISSUE, issue]),
            {CALENDAR: [*GOOD_EVENTS, event]},
        )
        result = plan_in(seed, output)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr[-2000:]
    if output == "json":
        plan = json.loads(result.stdout)
        assert_good_items_planned(plan)
        for problem in plan["problems"]:
            assert_readable(problem)
    else:
        assert "good-e1" not in result.stderr
        assert "Launch blog alpha" in result.stdout and "Webinar beta" in result.stdout
        skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped ")]
        assert len(skipped) <= 3


@pytest.mark.parametrize("output", ["json", "table"])
def test_titles_with_lone_surrogates_and_controls_print_without_a_crash(
    tmp_path: Path, output: str
) -> None:
    """JSON allows "\\ud800"; a terminal cannot print it, and the plan must still appear."""
    event = {**GOOD_EVENTS[1], "id": "weird", "summary": "Webinar \ud800 \x00 \u202e beta"}
    seed = write_seed(tmp_path, jira_seed(), {CALENDAR: [*GOOD_EVENTS, event]})
    result = plan_in(seed, output)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "weird" in result.stdout or "Webinar" in result.stdout


@pytest.mark.parametrize(
    ("files", "fix"),
    [
        ({"jira.json": "[1, 2]"}, "jira.json: must be an object"),
        ({"jira.json": '{"projects": 7}'}, "'projects' must be a list"),
        ({"jira.json": '{"issues": {"a": 1}}'}, "'issues' must be a list"),
        ({"calendars.json": '{"cal": '}, "calendars.json: line 1"),
        ({"calendars.json": "[]"}, "calendars.json: must map calendar ids"),
    ],
)
def test_a_broken_seed_file_is_one_line_naming_the_file(
    tmp_path: Path, files: dict[str, str], fix: str
) -> None:
    seed = write_seed(tmp_path, jira_seed(), {CALENDAR: GOOD_EVENTS})
    for name, text in files.items():
        (seed / name).write_text(text, encoding="utf-8")
    result = plan_in(seed, "json")
    assert_no_traceback(result)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("launchsync: error: ") and fix in line, line


@pytest.mark.parametrize("today", ["9999-12-31", "0001-01-01", "2026-02-30", "\u202e2026"])
def test_an_absurd_today_is_refused_in_one_line(tmp_path: Path, today: str) -> None:
    seed = write_seed(tmp_path, jira_seed(), {CALENDAR: GOOD_EVENTS})
    config = seed / "launchsync.yaml"
    config.write_text(CONFIG_YAML, encoding="utf-8")
    result = launchsync("plan", "--config", str(config), "--from-seed", str(seed), "--today", today)
    assert_no_traceback(result)
    assert result.returncode == 2
    assert "--today" in result.stderr and "use" in result.stderr.splitlines()[-1]
