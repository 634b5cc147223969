"""Issue search: Cloud's `search/jql` (nextPageToken) and Server's `search` (startAt/total)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.jira.errors import JiraApiError
from sandbox.jira.jql import JqlError, parse
from sandbox.jira.jql_eval import Context, matches, sort_issues, validate
from sandbox.jira.render import issue_json
from sandbox.jira.store import JiraStore

CLOUD_MAX_RESULTS = 100  # Cloud's cap when fields beyond id/key are asked for
SERVER_MAX_RESULTS = 1000  # Server/DC's default jira.search.views.default.max
DEFAULT_MAX_RESULTS = 50


def context(store: JiraStore) -> Context:
    """JQL context: custom fields by id and name, the user's zone, the store's clock."""
    custom: dict[str, Mapping[str, Any]] = {}
    for field in store.fields:
        if field.get("custom"):
            custom[str(field["id"]).lower()] = field
            custom[str(field.get("name", "")).lower()] = field
    return Context(custom, ZoneInfo(store.user.get("timeZone") or "UTC"), store.clock())


def run_jql(store: JiraStore, jql: str) -> list[dict[str, Any]]:
    """Every issue matching the query, in its order; JqlError becomes Jira's 400."""
    ctx = context(store)
    try:
        query = parse(jql)
        validate(query, ctx)
        found = [i for i in store.all_issues() if matches(query.where, i, ctx)]
        return sort_issues(found, query, ctx)
    except JqlError as exc:
        raise JiraApiError(400, str(exc)) from None


def _int(params: Mapping[str, Any], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except (TypeError, ValueError):
        raise JiraApiError(400, f"The value of '{name}' must be an integer.") from None


def _token(jql: str, offset: int) -> str:
    digest = hashlib.sha256(jql.encode()).hexdigest()[:12]
    raw = json.dumps({"q": digest, "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(jql: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] == hashlib.sha256(jql.encode()).hexdigest()[:12]:
            return int(data["o"])
    except (ValueError, KeyError, TypeError):
        pass
    raise JiraApiError(400, "The provided next page token is invalid or expired.")


def _listing(params: Mapping[str, Any], name: str) -> list[str]:
    value = params.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def cloud_search(store: JiraStore, params: Mapping[str, Any]) -> dict[str, Any]:
    """GET/POST /search/jql: a page of issues and the token of the next one."""
    jql = str(params.get("jql") or "")
    if not jql.strip():
        raise JiraApiError(
            400, "Unbounded JQL queries are not allowed here. Add a search restriction."
        )
    found = run_jql(store, jql)
    start = _offset(jql, params.get("nextPageToken"))
    fields = _listing(params, "fields") or ["id"]
    narrow = {n.strip() for f in fields for n in f.split(",")} <= {"id", "key"}
    limit = min(
        max(_int(params, "maxResults", DEFAULT_MAX_RESULTS), 1),
        5000 if narrow else CLOUD_MAX_RESULTS,
    )
    page = found[start : start + limit]
    body: dict[str, Any] = {"issues": _render(store, page, params, fields, "id")}
    if start + limit < len(found):
        body["nextPageToken"] = _token(jql, start + limit)
    body["isLast"] = start + limit >= len(found)
    return body


def server_search(store: JiraStore, params: Mapping[str, Any]) -> dict[str, Any]:
    """GET/POST /search on Server/DC: startAt, maxResults and total."""
    found = run_jql(store, str(params.get("jql") or ""))
    start = max(_int(params, "startAt", 0), 0)
    limit = min(max(_int(params, "maxResults", DEFAULT_MAX_RESULTS), 0), SERVER_MAX_RESULTS)
    page = found[start : start + limit]
    fields = _listing(params, "fields")
    return {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": limit,
        "total": len(found),
        "issues": _render(store, page, params, fields, "*navigable"),
    }


def _render(
    store: JiraStore,
    issues: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    fields: list[str],
    default: str,
) -> list[dict[str, Any]]:
    expand = ",".join(_listing(params, "expand"))
    properties = [p for v in _listing(params, "properties") for p in v.split(",") if p]
    return [
        issue_json(store, issue, fields or None, expand, properties, default) for issue in issues
    ]
