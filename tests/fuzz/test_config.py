"""Hostile config files: a ConfigError naming the file and the key, never a traceback."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, reject
from hypothesis import strategies as st

from flows.bootstrap import seed_sources
from flows.planning import build_plan
from models.config import Config, parse_config
from models.errors import ConfigError, LaunchsyncError, one_line
from tests.fuzz.seeds import CALENDAR, GOOD_EVENTS, TODAY, jira_seed, write_seed
from tests.fuzz.strategies import BAD_ZONES, FUZZ, junk, nasty_text
from tests.fuzz.test_cli_plan import launchsync

SOURCE = "fuzz.yaml"
TOKEN = "s3cret-api-token-value"
ENVIRON = {"JIRA_API_TOKEN": TOKEN}
GOOD: dict[str, Any] = {
    "timezone": "America/Los_Angeles",
    "jira": {
        "url": "https://example.atlassian.net",
        "email": "bot@example.com",
        "api_token": "${JIRA_API_TOKEN}",
        "projects": ["PROJ"],
        "issue_jql": "labels = launch",
        "date_field": "duedate",
        "tickets": {"project": "PROJ", "issue_type": "Task"},
    },
    "calendar": {"kind": "google", "calendar_ids": [CALENDAR]},
    "policy": {"notice_days": 14, "horizon_days": 90, "offsets": {"blog": 0, "webinar": 7}},
    "alerts": {"routes": [{"notify": ["pm@example.com"]}], "digest_hour": 9},
    "webhooks": {"port": 8787, "max_body_bytes": 524288},
    "state": {"url": "sqlite:///:memory:"},
}
PATHS = [
    ("timezone",),
    ("jira",),
    ("jira", "url"),
    ("jira", "email"),
    ("jira", "api_token"),
    ("jira", "projects"),
    ("jira", "issue_jql"),
    ("jira", "date_field"),
    ("jira", "tickets", "labels"),
    ("calendar", "kind"),
    ("calendar", "calendar_ids"),
    ("calendar", "api_endpoint"),
    ("policy", "notice_days"),
    ("policy", "horizon_days"),
    ("policy", "offsets", "blog"),
    ("policy", "link_patterns"),
    ("policy", "unlinked_filter"),
    ("alerts", "routes"),
    ("alerts", "digest_hour"),
    ("webhooks", "port"),
    ("webhooks", "max_body_bytes"),
    ("state",),
]
BAD_URLS = ["example.atlassian.net", "ftp://x", "http://", "https:// space", "javascript:alert(1)"]
hostile = (
    junk
    | nasty_text
    | st.sampled_from(BAD_URLS + BAD_ZONES + ["${NOT_SET}", "${JIRA_API_TOKEN", "proj"])
    | st.integers(min_value=-(10**12), max_value=10**12)
)


@st.composite
def hostile_configs(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str, ...]]:
    """GOOD with one key given a hostile value (or an unknown key added); and that key."""
    config = copy.deepcopy(GOOD)
    path: tuple[str, ...] = draw(st.sampled_from(PATHS))
    if draw(st.integers(0, 4)) == 0:
        path = (*path[:-1], draw(st.sampled_from(["colour", "projets", "tz"]) | nasty_text))
    parent = config
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = draw(hostile)
    return config, path


def dump(config: Any) -> str:
    try:
        return yaml.safe_dump(config, allow_unicode=True)
    except yaml.YAMLError:
        reject()  # PyYAML cannot write some strings (lone surrogates); not our input


def assert_names_file_and_key(message: str, path: tuple[str, ...]) -> None:
    """One short line naming the file and, at least, the section holding the bad key."""
    assert message.startswith(f"{SOURCE}:"), message
    assert "\n" not in message and "\r" not in message and len(message) <= 600, message
    assert TOKEN not in message
    # A hostile key is shown escaped and, when long, by its start.
    section = one_line(path[0], 10**9)[:50]
    assert section in message or "YAML" in message, message


@FUZZ
@given(hostile_configs())
def test_a_hostile_value_is_a_config_error_naming_the_key_or_plans(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[dict[str, Any], tuple[str, ...]]
) -> None:
    """Whatever the config accepts, a plan can then be made from it."""
    config, path = case
    try:
        loaded = parse_config(dump(config), SOURCE, ENVIRON)
    except ConfigError as exc:
        assert_names_file_and_key(str(exc), path)
        return
    seed = write_seed(tmp_path_factory.mktemp("seed"), jira_seed(), {CALENDAR: GOOD_EVENTS})
    try:
        build_plan(loaded, seed_sources(loaded, seed), today=TODAY)
    except LaunchsyncError as exc:  # e.g. a calendar id the seed lacks: still one line
        assert "\n" not in str(exc)


@FUZZ
@given(st.text(st.characters(codec="utf-8"), max_size=300))
def test_any_text_is_a_config_or_a_config_error(text: str) -> None:
    try:
        parse_config(text, SOURCE, ENVIRON)
    except ConfigError as exc:
        assert str(exc).startswith(f"{SOURCE}:") and "\n" not in str(exc)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("timezone: " + "[" * 1500 + "]" * 1500, "nested too deeply"),
        ("jira: {url: 'x'\ncalendar: [", "line"),
        ("- just\n- a list\n", "must be a mapping"),
        (
            yaml.safe_dump({**GOOD, "policy": {"offsets": {"blog": 10**11}}}),
            "policy.offsets: 'blog': 100000000000 days is out of range",
        ),
        (yaml.safe_dump({**GOOD, "policy": {"offsets": {"a\nb": 1.5}}}), "policy.offsets.a\\nb"),
        # YAML's \ud800 escape: a lone surrogate key, once reported as "(top level)".
        ('timezone: UTC\n"\\ud800": ""\n', "\\ud800: not valid Unicode text"),
        ('timezone: "\\udfff"\n', "timezone: not valid Unicode text"),
        # A "billion laughs": nine lines that would expand to 10^9 strings.
        ("a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n", "line 2 aliases"),
    ],
)
def test_pathological_config_files_are_one_line(text: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, SOURCE, ENVIRON)
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}:") and "\n" not in message and named in message, message


def write_config(tmp_path: Path, change: dict[str, Any]) -> Path:
    path = tmp_path / "broken.yaml"
    config = copy.deepcopy(GOOD)
    for section, values in change.items():
        config[section] = {**config[section], **values} if isinstance(values, dict) else values
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


CLI_CASES = [
    ({"jira": {"url": "example.atlassian.net"}}, "jira.url: must be an http(s) URL"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone: unknown time zone 'Mars/Olympus_Mons'"),
    ({"calendar": {"kind": "outlook"}}, "calendar.kind:"),
    ({"policy": {"horizon_days": "ninety", "colour": "red"}}, "policy.colour: unknown key"),
]


@pytest.mark.parametrize(("change", "expected"), CLI_CASES)
def test_doctor_reports_a_bad_config_in_one_line(
    tmp_path: Path, change: dict[str, Any], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)  # the child process inherits it
    config = write_config(tmp_path, change)
    result = launchsync("doctor", "--config", str(config))
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-2000:]
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if "FAIL" in line]
    assert len(failed) == 1 and str(config) in failed[0] and expected in failed[0], result.stdout
    assert TOKEN not in result.stdout


@pytest.mark.parametrize(("change", "expected"), CLI_CASES[:2])
def test_plan_refuses_a_bad_config_in_one_line(
    tmp_path: Path, change: dict[str, Any], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    config = write_config(tmp_path, change)
    seed = write_seed(tmp_path / "seed", jira_seed(), {CALENDAR: GOOD_EVENTS})
    result: subprocess.CompletedProcess[str] = launchsync(
        "plan", "--config", str(config), "--from-seed", str(seed)
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"launchsync: error: {config}: ") and expected in line, line


def test_the_good_config_is_good() -> None:
    """The positive control: the fuzzed configs fail for their one change, not for GOOD."""
    assert isinstance(parse_config(yaml.safe_dump(GOOD), SOURCE, ENVIRON), Config)
