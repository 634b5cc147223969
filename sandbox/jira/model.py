"""Jira's fixed vocabulary in the sandbox: system fields, statuses, transitions, timestamps."""

from __future__ import annotations

import datetime as dt
from typing import Any

STATUSES: dict[str, dict[str, Any]] = {
    "To Do": {"id": "10000", "name": "To Do", "category": ("new", "To Do", 2)},
    "In Progress": {
        "id": "3",
        "name": "In Progress",
        "category": ("indeterminate", "In Progress", 4),
    },
    "Done": {"id": "10001", "name": "Done", "category": ("done", "Done", 3)},
}
# A simple workflow: every status can be reached from every other one.
TRANSITIONS = (("11", "To Do"), ("21", "In Progress"), ("31", "Done"))
ISSUE_TYPES = {"Task": "10002", "Epic": "10000", "Story": "10001", "Bug": "10004"}
# Jira's built-in project permissions (key: id, name, description), as `mypermissions` lists them.
PROJECT_PERMISSIONS = {
    "BROWSE_PROJECTS": (
        "10",
        "Browse Projects",
        "Ability to browse projects and the issues within them.",
    ),
    "CREATE_ISSUES": ("11", "Create Issues", "Ability to create issues."),
    "EDIT_ISSUES": ("12", "Edit Issues", "Ability to edit issues."),
    "ASSIGN_ISSUES": ("13", "Assign Issues", "Ability to assign issues to other people."),
    "RESOLVE_ISSUES": ("14", "Resolve Issues", "Ability to resolve and reopen issues."),
    "ADD_COMMENTS": ("15", "Add Comments", "Ability to comment on issues."),
    "DELETE_ISSUES": ("16", "Delete Issues", "Ability to delete issues."),
    "CLOSE_ISSUES": ("18", "Close Issues", "Ability to close issues."),
    "LINK_ISSUES": ("21", "Link Issues", "Ability to link issues together."),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "Ability to administer a project."),
    "SCHEDULE_ISSUES": ("28", "Schedule Issues", "Ability to view or edit an issue's due date."),
    "TRANSITION_ISSUES": ("46", "Transition Issues", "Ability to transition issues."),
}


def permission_json(key: str, have: bool) -> dict[str, Any]:
    """A `UserPermission`: one permission and whether the caller holds it."""
    pid, name, description = PROJECT_PERMISSIONS[key]
    return {
        "id": pid,
        "key": key,
        "name": name,
        "type": "PROJECT",
        "description": description,
        "havePermission": have,
    }


SYSTEM_FIELDS: list[dict[str, Any]] = [
    {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": False,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [fid],
        "schema": {"type": kind, "system": fid},
    }
    for fid, name, kind in (
        ("summary", "Summary", "string"),
        ("description", "Description", "string"),
        ("project", "Project", "project"),
        ("issuetype", "Issue Type", "issuetype"),
        ("status", "Status", "status"),
        ("labels", "Labels", "array"),
        ("fixVersions", "Fix Version/s", "array"),
        ("duedate", "Due date", "date"),
        ("assignee", "Assignee", "user"),
        ("created", "Created", "datetime"),
        ("updated", "Updated", "datetime"),
    )
]


def status_json(name: str, base_url: str) -> dict[str, Any]:
    """Jira's status object (with its category) for a workflow status name."""
    status = STATUSES.get(name) or {"id": "1", "name": name, "category": ("new", "To Do", 2)}
    key, cat_name, cat_id = status["category"]
    return {
        "self": f"{base_url}/rest/api/2/status/{status['id']}",
        "id": status["id"],
        "name": status["name"],
        "statusCategory": {
            "self": f"{base_url}/rest/api/2/statuscategory/{cat_id}",
            "id": cat_id,
            "key": key,
            "name": cat_name,
        },
    }


def transition_json(transition_id: str, target: str, base_url: str) -> dict[str, Any]:
    """One entry of GET /issue/{key}/transitions."""
    return {
        "id": transition_id,
        "name": target,
        "to": status_json(target, base_url),
        "hasScreen": False,
        "isGlobal": True,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
    }


def jira_time(moment: dt.datetime) -> str:
    """Jira's timestamp format: `2026-01-05T09:00:00.000+0000`."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def user_json(user: dict[str, Any], deployment: str, base_url: str) -> dict[str, Any]:
    """A user as Jira shows it: accountId in Cloud, name/key on Server."""
    ident = (
        {"accountId": user["accountId"]}
        if deployment == "Cloud"
        else {"name": user["name"], "key": user["name"]}
    )
    query = (
        f"accountId={user['accountId']}" if deployment == "Cloud" else f"username={user['name']}"
    )
    return {
        "self": f"{base_url}/rest/api/2/user?{query}",
        **ident,
        "emailAddress": user["emailAddress"],
        "displayName": user["displayName"],
        "active": True,
        "timeZone": user.get("timeZone", "UTC"),
    }
