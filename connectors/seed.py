"""Sources that read a sandbox seed directory (contract 5) instead of live systems.

The seed holds the vendors' own JSON (`jira.json`, `calendars.json`), so the same pure
translators as the live connectors turn it into releases and events. Used for offline
what-if runs (`launchsync plan --from-seed DIR`) and by the sandbox emulators.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from connectors.base import Batch
from connectors.google_json import google_event_to_launch_event
from connectors.jira_json import issue_to_release, version_to_release
from models.errors import ItemError, SeedError
from models.event import LaunchEvent
from models.plan import ItemProblem
from models.release import Release

JIRA_FILE = "jira.json"
CALENDARS_FILE = "calendars.json"
T = TypeVar("T")


def seed_file(seed: Path | str, name: str) -> Path:
    """The seed file `name`, given its directory or the file itself."""
    seed = Path(seed)
    return seed / name if seed.is_dir() else seed


def read_seed_file(seed: Path | str, name: str) -> Any:
    """Parsed JSON of a seed file (`seed` is its directory or the file itself), or a
    SeedError naming the file, line and fix."""
    path = seed_file(seed, name)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SeedError(f"{path}: no such file; a seed directory needs {name}") from None
    except json.JSONDecodeError as exc:
        raise SeedError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def resolve_date_field(date_field: str, fields: Any) -> str:
    """The field id for a date field given by id or by name (`Launch date`)."""
    if not isinstance(fields, list):
        return date_field
    for field in fields:
        if isinstance(field, dict) and field.get("id") == date_field:
            return date_field
    for field in fields:
        if isinstance(field, dict) and str(field.get("name", "")).lower() == date_field.lower():
            return str(field["id"])
    return date_field


class SeedReleaseSource:
    """Versions of the configured projects and (when issue_jql is set) the seed's issues."""

    def __init__(
        self, seed_dir: Path, projects: tuple[str, ...], issue_jql: str | None, date_field: str
    ) -> None:
        self.seed_dir = Path(seed_dir)
        self.projects = projects
        self.issue_jql = issue_jql
        self.date_field = date_field

    def releases(self, cursor: Mapping[str, str] | None = None) -> Batch[Release]:
        """Every release in the seed; a bad item is reported and the rest still read."""
        seed = read_seed_file(self.seed_dir, JIRA_FILE)
        if not isinstance(seed, dict):
            raise SeedError(f"{self.seed_dir / JIRA_FILE}: must be an object with 'projects'")
        items: list[Release] = []
        problems: list[ItemProblem] = []
        path = seed_file(self.seed_dir, JIRA_FILE)
        seeded = {
            p["key"]: p
            for p in _listed(seed, "projects", path)
            if isinstance(p, dict) and isinstance(p.get("key"), str)
        }
        for key in self.projects:
            if key not in seeded:
                problems.append(
                    _problem(
                        f"project {key}",
                        "is not in jira.json; add it or fix jira.projects in the config",
                    )
                )
                continue
            versions = seeded[key].get("versions", [])
            if not isinstance(versions, list):
                problems.append(
                    _problem(f"project {key}", "has 'versions' that are not a list; list them")
                )
                continue
            for version in versions:
                _collect(partial(_version, version, key), items, problems)
        if self.issue_jql:
            # Offline, the JQL is not evaluated: every seeded issue stands for a match.
            field_id = resolve_date_field(self.date_field, seed.get("fields"))
            for issue in _listed(seed, "issues", path):
                _collect(partial(_issue, issue, field_id), items, problems)
        return Batch(tuple(items), tuple(problems))


class SeedCalendarSource:
    """Events of the configured calendars from `calendars.json`."""

    def __init__(self, seed_dir: Path, calendar_ids: tuple[str, ...]) -> None:
        self.seed_dir = Path(seed_dir)
        self.calendar_ids = calendar_ids

    def events(self, cursor: Mapping[str, str] | None = None) -> Batch[LaunchEvent]:
        """Every event of the configured calendars; bad events are reported, not fatal."""
        seed = read_seed_file(self.seed_dir, CALENDARS_FILE)
        if not isinstance(seed, dict):
            raise SeedError(f"{self.seed_dir / CALENDARS_FILE}: must map calendar ids to events")
        items: list[LaunchEvent] = []
        problems: list[ItemProblem] = []
        for calendar_id in self.calendar_ids:
            resources = seed.get(calendar_id)
            if not isinstance(resources, list):
                problems.append(
                    _problem(
                        f"calendar {calendar_id}",
                        "is not in calendars.json; "
                        "add it or fix calendar.calendar_ids in the config",
                    )
                )
                continue
            for resource in resources:
                _collect(partial(_event, resource, calendar_id), items, problems)
        return Batch(tuple(items), tuple(problems))


def _listed(seed: dict[str, Any], key: str, path: Path) -> list[Any]:
    """A top-level list of jira.json; fuzz-found: any other type crashed the plan."""
    value = seed.get(key, [])
    if not isinstance(value, list):
        raise SeedError(f"{path}: '{key}' must be a list (Jira's own JSON); fix that key")
    return value


# Non-objects are named by their container, like the live connectors do (fuzz-found:
# they were reported as "an item", which tells the user nothing about where to look).
def _version(raw: Any, project: str) -> Release:
    if not isinstance(raw, dict):
        raise ItemError(f"a version of {project}", "is not a JSON object")
    return version_to_release(raw, project)


def _issue(raw: Any, date_field: str) -> Release:
    if not isinstance(raw, dict):
        raise ItemError("an issue", "is not a JSON object")
    return issue_to_release(raw, date_field)


def _event(resource: Any, calendar_id: str) -> LaunchEvent:
    if not isinstance(resource, dict):
        raise ItemError(f"an event in calendar {calendar_id}", "is not a JSON object")
    return google_event_to_launch_event(resource, calendar_id)


def _collect(build: Callable[[], T], items: list[T], problems: list[ItemProblem]) -> None:
    try:
        items.append(build())
    except ItemError as exc:
        problems.append(_problem(exc.item, exc.problem))
    except (AttributeError, TypeError):
        problems.append(_problem("an item", "is not a JSON object of the vendor's shape"))


def _problem(item: str, error: str) -> ItemProblem:
    return ItemProblem(item=item, error=error)
