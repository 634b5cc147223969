"""Issue changes as Jira makes them: create, edit, transition, comment, properties.

Each change that Jira records in an issue's history gets a changelog entry and a webhook.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sandbox.jira.errors import JiraApiError, not_found
from sandbox.jira.model import ISSUE_TYPES, TRANSITIONS, status_json
from sandbox.jira.store import JiraStore

SCALAR_OPS = ("set",)
LIST_OPS = ("add", "remove", "set")


def create_issue(store: JiraStore, body: Mapping[str, Any]) -> dict[str, Any]:
    """POST /issue: validate like Jira, assign the next key, emit jira:issue_created."""
    fields = dict(body.get("fields") or {})
    errors: dict[str, str] = {}
    ref = fields.get("project") or {}
    project = None
    try:
        project = store.project(str(ref.get("key") or ref.get("id") or ""))
    except JiraApiError:
        errors["project"] = "valid project is required"
    issuetype = fields.get("issuetype") or {}
    type_name = issuetype.get("name") or next(
        (n for n, i in ISSUE_TYPES.items() if i == str(issuetype.get("id"))), None
    )
    if type_name not in ISSUE_TYPES:
        errors["issuetype"] = "valid issue type is required"
    if not str(fields.get("summary") or "").strip():
        errors["summary"] = "You must specify a summary of the issue."
    if errors or project is None:
        raise JiraApiError(400, errors=errors)
    with store.lock:
        numbers = [
            int(k.rsplit("-", 1)[1]) for k in store.issues if k.startswith(project["key"] + "-")
        ]
        key = f"{project['key']}-{max(numbers, default=0) + 1}"
        now = store.now()
        fields.update(
            project={"id": project["id"], "key": project["key"], "name": project["name"]},
            issuetype={"id": ISSUE_TYPES[str(type_name)], "name": type_name},
            status=status_json("To Do", store.base_url),
            labels=list(fields.get("labels") or []),
            created=now,
            updated=now,
        )
        issue = {"id": store.next_id(), "key": key, "fields": fields}
        store.issues[key] = issue
        store.histories[key] = []
    store.emit("jira:issue_created", {"issue": copy.deepcopy(issue), "user": dict(store.user)})
    return issue


def edit_issue(
    store: JiraStore,
    key_or_id: str,
    body: Mapping[str, Any],
    author: Mapping[str, Any] | None = None,
    at: Any = None,
) -> dict[str, Any] | None:
    """PUT /issue/{key}: `fields` set values, `update` applies add/remove/set operations."""
    issue = store.issue(key_or_id)
    with store.lock:
        fields = issue["fields"]
        new_values = {name: value for name, value in (body.get("fields") or {}).items()}
        for name, operations in (body.get("update") or {}).items():
            new_values[name] = _apply_operations(name, fields.get(name), operations)
        items = []
        for name, value in new_values.items():
            if name in ("project", "issuetype", "status", "created", "updated"):
                raise JiraApiError(400, errors={name: f"Field '{name}' cannot be set."})
            if fields.get(name) != value:
                items.append(_change_item(store, name, fields.get(name), value))
                fields[name] = value
        if not items:
            return None
        entry = store.record(issue["key"], items, author, at)
        snapshot = copy.deepcopy(issue)
    store.emit(
        "jira:issue_updated",
        {
            "issue": snapshot,
            "changelog": {"id": entry["id"], "items": items},
            "user": entry["author"],
            "issue_event_type_name": "issue_generic",
        },
    )
    return entry


def _apply_operations(name: str, current: Any, operations: Any) -> Any:
    value = list(current or []) if isinstance(current, list) or name == "labels" else current
    for operation in operations or []:
        for verb, argument in operation.items():
            if verb == "set":
                value = argument
            elif verb == "add" and isinstance(value, list):
                value = [*value, argument] if argument not in value else value
            elif verb == "remove" and isinstance(value, list):
                value = [v for v in value if v != argument]
            else:
                raise JiraApiError(400, errors={name: f"Operation '{verb}' is not supported."})
    return value


def _change_item(store: JiraStore, name: str, old: Any, new: Any) -> dict[str, Any]:
    field = store.field_named(name) or {"id": name, "name": name, "custom": False}
    item = {
        "field": field["name"] if field.get("custom") else name,
        "fieldtype": "custom" if field.get("custom") else "jira",
        "fieldId": field["id"],
        "fromString": _text(old),
        "toString": _text(new),
    }
    return {k: v for k, v in item.items() if v is not None}  # Jira's schema has no nulls here


def _text(value: Any) -> str | None:
    if value in (None, "", []):
        return None
    if isinstance(value, list):
        return " ".join(str(v.get("name", v) if isinstance(v, dict) else v) for v in value)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("value") or value.get("id"))
    return str(value)


def transition(store: JiraStore, key_or_id: str, body: Mapping[str, Any]) -> None:
    """POST /issue/{key}/transitions: move to the transition's status (and comment)."""
    issue = store.issue(key_or_id)
    wanted = str((body.get("transition") or {}).get("id", ""))
    target = next((name for tid, name in TRANSITIONS if tid == wanted), None)
    if target is None:
        raise JiraApiError(400, f"Transition id '{wanted}' is not valid for this issue.")
    with store.lock:
        old = issue["fields"].get("status") or {}
        issue["fields"]["status"] = status_json(target, store.base_url)
        item = {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": old.get("id"),
            "fromString": old.get("name"),
            "to": issue["fields"]["status"]["id"],
            "toString": target,
        }
        entry = store.record(issue["key"], [item])
        snapshot = copy.deepcopy(issue)
    for update in (body.get("update") or {}).get("comment", []):
        add_comment(store, issue["key"], {"body": update.get("add", {}).get("body", "")})
    store.emit(
        "jira:issue_updated",
        {
            "issue": snapshot,
            "changelog": {"id": entry["id"], "items": [item]},
            "user": entry["author"],
            "issue_event_type_name": "issue_generic",
        },
    )


def add_comment(store: JiraStore, key_or_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """POST /issue/{key}/comment."""
    issue = store.issue(key_or_id)
    text = body.get("body")
    if not text:
        raise JiraApiError(400, errors={"comment": "Comment body can not be empty!"})
    now = store.now()
    comment = {
        "id": store.next_id(),
        "author": dict(store.user),
        "body": text,
        "updateAuthor": dict(store.user),
        "created": now,
        "updated": now,
    }
    with store.lock:
        store.comments.setdefault(issue["key"], []).append(comment)
        issue["fields"]["updated"] = now
        snapshot = copy.deepcopy(issue)
    store.emit("comment_created", {"issue": snapshot, "comment": comment, "user": dict(store.user)})
    return comment


def set_property(store: JiraStore, key_or_id: str, name: str, value: Any) -> bool:
    """PUT /issue/{key}/properties/{name}; True when it was created."""
    issue = store.issue(key_or_id)
    if len(name) > 255:
        raise JiraApiError(400, "The property key cannot be longer than 255 characters.")
    with store.lock:
        props = store.properties.setdefault(issue["key"], {})
        created = name not in props
        props[name] = copy.deepcopy(value)
    return created


def get_property(store: JiraStore, key_or_id: str, name: str) -> Any:
    """GET /issue/{key}/properties/{name}, or 404."""
    issue = store.issue(key_or_id)
    with store.lock:
        props = store.properties.get(issue["key"], {})
        if name not in props:
            raise not_found(f"The property with key '{name}'")
        return copy.deepcopy(props[name])
