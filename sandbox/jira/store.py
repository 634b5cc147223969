"""The sandbox's Jira state: projects, versions, issues, comments, properties, changelogs.

Thread-safe: the server thread answers requests while tests change state like a person
in the Jira UI. Every change records a changelog entry (author, time, items) and tells
the listeners, which send the webhooks.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sandbox.jira.errors import JiraApiError, not_found
from sandbox.jira.model import SYSTEM_FIELDS, jira_time

Listener = Callable[[str, dict[str, Any]], None]
DEFAULT_USER = {
    "accountId": "5b10a2844c20165700ede21g",
    "name": "launchsync",
    "emailAddress": "launchsync@example.com",
    "displayName": "launchsync bot",
    "timeZone": "UTC",
}


class JiraStore:
    """Everything the emulator knows, keyed like Jira: versions by id, issues by key."""

    def __init__(
        self,
        deployment: str = "Cloud",
        user: Mapping[str, Any] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.deployment = deployment
        self.user: dict[str, Any] = {**DEFAULT_USER, **(user or {})}
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.base_url = "http://jira.sandbox"
        self.projects: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, dict[str, Any]] = {}
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.properties: dict[str, dict[str, Any]] = {}
        self.histories: dict[str, list[dict[str, Any]]] = {}
        self.fields: list[dict[str, Any]] = copy.deepcopy(SYSTEM_FIELDS)
        self.lock = threading.RLock()
        self.listeners: list[Listener] = []
        # Project key -> permission keys the signed-in user lacks there (the seed says which).
        self.denied: dict[str, set[str]] = {}
        self._ids = itertools.count(100_000)

    # --- seeding ---------------------------------------------------------------------

    def add_project(self, project: Mapping[str, Any]) -> None:
        """A seed project with its versions."""
        key, pid = str(project["key"]), str(project["id"])
        self.projects[key] = {"id": pid, "key": key, "name": str(project.get("name", key))}
        if isinstance(project.get("lead"), Mapping):
            self.projects[key]["lead"] = dict(project["lead"])
        for version in project.get("versions", []):
            stored = {**version, "id": str(version["id"]), "projectId": int(pid)}
            self.versions[stored["id"]] = stored

    def add_issue(self, issue: Mapping[str, Any]) -> None:
        """A seed issue; a `changelog.histories` in it becomes its history."""
        stored = copy.deepcopy(dict(issue))
        histories = (stored.pop("changelog", None) or {}).get("histories", [])
        stored["id"] = str(stored.get("id") or self.next_id())
        stored.setdefault("fields", {})
        self.issues[str(stored["key"])] = stored
        self.histories[stored["key"]] = list(histories)

    def add_field(self, field: Mapping[str, Any]) -> None:
        """A custom field definition (`{"id": "customfield_10015", "name": ...}`)."""
        self.fields.append({"key": field["id"], "clauseNames": [], **field})

    def next_id(self) -> str:
        """A fresh numeric id for an issue, comment or changelog entry."""
        return str(next(self._ids))

    def now(self) -> str:
        """The current time in Jira's format."""
        return jira_time(self.clock())

    # --- reads -----------------------------------------------------------------------

    def project(self, key_or_id: str) -> dict[str, Any]:
        """A project by key or id, or 404."""
        with self.lock:
            for project in self.projects.values():
                if key_or_id in (project["key"], project["id"]):
                    return project
        raise not_found(f"No project could be found with key '{key_or_id}'. Project")

    def project_versions(self, key_or_id: str) -> list[dict[str, Any]]:
        """A project's versions in sequence order (stored objects: render before answering)."""
        project_id = int(self.project(key_or_id)["id"])
        with self.lock:
            # No copies: callers render (and so copy) only the page they answer with.
            return [v for v in self.versions.values() if v["projectId"] == project_id]

    def version(self, version_id: str) -> dict[str, Any]:
        """A version by id, or 404."""
        with self.lock:
            if version_id not in self.versions:
                raise not_found(f"Could not find version for id '{version_id}'. Version")
            return copy.deepcopy(self.versions[version_id])

    def issue(self, key_or_id: str) -> dict[str, Any]:
        """An issue by key or id, or 404."""
        with self.lock:
            issue = self.issues.get(key_or_id) or next(
                (i for i in self.issues.values() if i["id"] == key_or_id), None
            )
            if issue is None:
                raise not_found("Issue")
            return issue

    def all_issues(self) -> list[dict[str, Any]]:
        """A snapshot of every issue (for searching)."""
        with self.lock:
            return list(self.issues.values())

    def field_named(self, id_or_name: str) -> dict[str, Any] | None:
        """A field by id or (case-insensitive) name."""
        for field in self.fields:
            if id_or_name in (field["id"], field.get("key")):
                return field
        lower = id_or_name.lower()
        return next((f for f in self.fields if str(f.get("name", "")).lower() == lower), None)

    # --- changes ---------------------------------------------------------------------

    def record(
        self,
        key: str,
        items: Sequence[dict[str, Any]],
        author: Mapping[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Append a changelog entry (who, when, what) to an issue's history and bump `updated`."""
        created = jira_time(at) if at else self.now()
        entry = {
            "id": self.next_id(),
            "author": dict(author or self.user),
            "created": created,
            "items": list(items),
        }
        with self.lock:
            self.histories.setdefault(key, []).append(entry)
            self.issues[key]["fields"]["updated"] = created
        return entry

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Tell every listener (the webhook hub) about a change."""
        for listener in self.listeners:
            listener(event, payload)

    def update_version(
        self, version_id: str, changes: Mapping[str, Any], author: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Change a version (PUT /version/{id} or the UI); emits version webhooks."""
        allowed = {"name", "description", "releaseDate", "startDate", "released", "archived"}
        unknown = set(changes) - allowed - {"id", "self", "projectId", "userReleaseDate"}
        if unknown:
            raise JiraApiError(400, errors={k: f"Field '{k}' cannot be set." for k in unknown})
        with self.lock:
            current = self.versions.get(version_id)
            if current is None:
                raise not_found(f"Could not find version for id '{version_id}'. Version")
            was_released = bool(current.get("released"))
            for name in allowed & set(changes):
                if changes[name] is None:
                    current.pop(name, None)
                else:
                    current[name] = changes[name]
            if changes.get("released") and not current.get("releaseDate"):
                current["releaseDate"] = self.clock().date().isoformat()
            snapshot = copy.deepcopy(current)
        self.emit("jira:version_updated", {"version": snapshot, "user": dict(author or self.user)})
        if snapshot.get("released") and not was_released:
            self.emit(
                "jira:version_released", {"version": snapshot, "user": dict(author or self.user)}
            )
        return snapshot
