"""Pure translation of Jira REST JSON (versions, issues) into releases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from models.dates import DATE_RANGE, plausible
from models.errors import ItemError
from models.release import Release, ReleaseKind

DATE_FIX = "use YYYY-MM-DD"


def parse_jira_date(value: Any, item: str, field: str) -> dt.date | None:
    """A Jira date field (`2026-03-01`, or a date-time whose date part counts) or None."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ItemError(item, f"{field} {value!r} is not a date; {DATE_FIX}")
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        raise ItemError(item, f"{field} {value!r} is not a date; {DATE_FIX}") from None
    if not plausible(day):
        raise ItemError(item, f"{field} {value!r} is out of range; use a date in {DATE_RANGE}")
    return day


def parse_jira_datetime(value: Any) -> dt.datetime | None:
    """Jira's `2026-03-01T10:00:00.000+0000` timestamps; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None


def _required(data: Mapping[str, Any], key: str, item: str) -> str:
    value = data.get(key)
    if value in (None, ""):
        raise ItemError(item, f"has no '{key}'; every Jira {item.split()[0]} needs one")
    return str(value)


def version_to_release(
    version: Mapping[str, Any], project: str, base_url: str | None = None
) -> Release:
    """A Jira version (REST `Version` JSON) as a release of `project`."""
    label = f"version {version.get('name') or version.get('id') or '?'} of {project}"
    version_id = _required(version, "id", label)
    name = _required(version, "name", label)
    browse = (
        f"{base_url.rstrip('/')}/projects/{project}/versions/{version_id}" if base_url else None
    )
    return Release(
        kind=ReleaseKind.VERSION,
        id=version_id,
        key=project,
        name=name,
        project=project,
        date=parse_jira_date(version.get("releaseDate"), label, "releaseDate"),
        released=bool(version.get("released", False)),
        archived=bool(version.get("archived", False)),
        url=browse,
    )


def issue_to_release(
    issue: Mapping[str, Any], date_field: str, base_url: str | None = None
) -> Release:
    """A Jira issue (REST `IssueBean` JSON) as a release dated by `date_field`."""
    key = _required(issue, "key", f"issue {issue.get('id') or '?'}")
    label = f"issue {key}"
    fields = issue.get("fields")
    if not isinstance(fields, Mapping):
        raise ItemError(label, "has no 'fields'; request the issue with its fields")
    category = _object(_object(fields, "status"), "statusCategory").get("key")
    owner = _object(fields, "assignee").get("emailAddress")
    project = _object(fields, "project").get("key") or key.rsplit("-", 1)[0]
    try:
        return Release(
            kind=ReleaseKind.ISSUE,
            id=key,
            key=key,
            name=str(fields.get("summary") or key),
            project=str(project),
            date=parse_jira_date(fields.get(date_field), label, date_field),
            released=category == "done",
            archived=False,
            url=f"{base_url.rstrip('/')}/browse/{key}" if base_url else None,
            owner=owner if isinstance(owner, str) else None,
            updated=parse_jira_datetime(fields.get("updated")),
        )
    except ValueError as exc:  # pydantic's ValidationError: a field of the wrong type
        raise ItemError(
            label, f"cannot be read ({exc.__class__.__name__}); fix its fields"
        ) from None


def _object(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested JSON object, or {} when absent or (fuzz-found) of another type."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}
