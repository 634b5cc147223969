"""Stored state as Jira's REST JSON, with `self` links pointing at the emulator."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.jira.model import user_json
from sandbox.jira.store import JiraStore

API = "/rest/api/2"
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def api_url(store: JiraStore, path: str) -> str:
    """An absolute URL of a REST resource on this emulator."""
    return f"{store.base_url}{API}/{path}"


def version_json(store: JiraStore, version: Mapping[str, Any]) -> dict[str, Any]:
    """A version resource (`Version` in the OpenAPI document)."""
    return {"self": api_url(store, f"version/{version['id']}"), **copy.deepcopy(dict(version))}


def project_json(store: JiraStore, project: Mapping[str, Any]) -> dict[str, Any]:
    """A project resource with its versions."""
    versions = [version_json(store, v) for v in store.project_versions(project["key"])]
    return {
        "self": api_url(store, f"project/{project['id']}"),
        "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
        **project,
        "projectTypeKey": "software",
        "simplified": False,
        "style": "classic",
        "isPrivate": False,
        "versions": versions,
        # Every project has a lead; a seed may name one (a Jira User), else the sandbox user.
        "lead": user(store, {**store.user, **dict(project.get("lead") or {})}),
    }


def user(store: JiraStore, who: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A user as Jira shows it (the sandbox's own user unless given)."""
    return user_json(dict(who or store.user), store.deployment, store.base_url)


def history_json(store: JiraStore, entry: Mapping[str, Any]) -> dict[str, Any]:
    """One changelog entry."""
    return {**copy.deepcopy(dict(entry)), "author": user(store, entry.get("author"))}


def comment_json(store: JiraStore, key: str, comment: Mapping[str, Any]) -> dict[str, Any]:
    """A comment resource."""
    return {
        "self": api_url(store, f"issue/{key}/comment/{comment['id']}"),
        **copy.deepcopy(dict(comment)),
        "author": user(store, comment.get("author")),
        "updateAuthor": user(store, comment.get("updateAuthor")),
    }


def wanted_fields(param: Iterable[str] | None, default: str) -> tuple[bool, set[str], set[str]]:
    """(all, included, excluded) from Jira's `fields` parameter (comma lists or repeats)."""
    names = [n.strip() for p in (param or [default]) for n in p.split(",") if n.strip()]
    names = names or [default]
    everything = any(n in ("*all", "*navigable") for n in names)
    return (
        everything,
        {n for n in names if not n.startswith("-")},
        {n[1:] for n in names if n.startswith("-")},
    )


def issue_json(
    store: JiraStore,
    issue: Mapping[str, Any],
    fields: Iterable[str] | None = None,
    expand: str = "",
    properties: Iterable[str] = (),
    default_fields: str = "*all",
) -> dict[str, Any]:
    """An issue resource: the fields asked for, and the changelog when expanded."""
    everything, included, excluded = wanted_fields(fields, default_fields)
    with store.lock:
        stored = issue["fields"]
        chosen = {
            name: copy.deepcopy(value)
            for name, value in stored.items()
            if (everything or name in included) and name not in excluded
        }
        histories = [history_json(store, h) for h in store.histories.get(issue["key"], [])]
        props = store.properties.get(issue["key"], {})
        picked = {k: copy.deepcopy(props[k]) for k in properties if k in props}
    body: dict[str, Any] = {
        "expand": ISSUE_EXPAND,
        "id": issue["id"],
        "self": api_url(store, f"issue/{issue['id']}"),
        "key": issue["key"],
    }
    if chosen or included - {"id", "key"}:
        body["fields"] = chosen
    if "changelog" in expand.split(","):
        body["changelog"] = {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(histories),
            "histories": histories,
        }
    if picked:
        body["properties"] = picked
    return body
