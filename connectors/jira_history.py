"""Slip history from Jira changelogs: who last moved an issue's date field, and when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from jira import JIRA

from connectors.jira_client import JiraCalls, quote
from connectors.jira_json import parse_jira_datetime
from connectors.jira_settings import CHANGELOG_KEYS_PER_SEARCH, SEARCH_PAGE_SIZE
from connectors.retry import page_of

Change = tuple[str | None, dt.datetime | None]


def issue_date_changes(calls: JiraCalls, keys: Sequence[str], field: str) -> dict[str, Change]:
    """Issue key -> (author, time) of the newest change of `field`; one search per 100 keys."""
    changes: dict[str, Change] = {}
    for start in range(0, len(keys), CHANGELOG_KEYS_PER_SEARCH):
        chunk = keys[start : start + CHANGELOG_KEYS_PER_SEARCH]
        jql = f"key in ({', '.join(quote(k) for k in chunk)})"
        for issue in _search_with_changelog(calls, jql):
            last = last_change(issue, field)
            if last is not None:
                changes[str(issue["key"])] = last
    return changes


def _search_with_changelog(calls: JiraCalls, jql: str) -> list[Mapping[str, Any]]:
    options: dict[str, Any] = {
        "maxResults": SEARCH_PAGE_SIZE,
        "fields": ["updated"],
        "expand": "changelog",
        "json_result": True,
    }
    cloud = calls.cloud

    def search(c: JIRA) -> dict[str, Any]:
        find = c.enhanced_search_issues if cloud else c.search_issues
        found = find(jql, **options)
        return page_of(found, "issues")

    return list(calls.call("changelog", search).get("issues") or [])


def last_change(
    issue: Mapping[str, Any], field: str
) -> tuple[str | None, dt.datetime | None] | None:
    """(author, time) of the newest changelog entry touching `field`, or None."""
    histories = (issue.get("changelog") or {}).get("histories") or []
    touching = [
        h
        for h in histories
        if any(field in (item.get("fieldId"), item.get("field")) for item in h.get("items") or [])
    ]
    if not touching:
        return None
    newest = max(
        touching,
        key=lambda h: (
            parse_jira_datetime(h.get("created")) or dt.datetime.min.replace(tzinfo=dt.UTC)
        ),
    )
    author = newest.get("author") or {}
    who = author.get("emailAddress") or author.get("displayName") or author.get("name")
    return (str(who) if who else None), parse_jira_datetime(newest.get("created"))
