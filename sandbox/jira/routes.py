"""The REST routes: Jira platform API v2 (and v3 paths for search/jql and reads)."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.jira import issues, render, search
from sandbox.jira.errors import JiraApiError
from sandbox.jira.model import (
    PROJECT_PERMISSIONS,
    TRANSITIONS,
    jira_time,
    permission_json,
    transition_json,
)
from sandbox.jira.store import JiraStore

Handler = Callable[[Request], Awaitable[Response]]
VERSION_PAGE_MAX = 100


def paged(values: list[Any], start: int, limit: int, url: str) -> dict[str, Any]:
    """Jira's PageBean: startAt, maxResults, total, isLast, values (and nextPage)."""
    page = values[start : start + limit]
    body: dict[str, Any] = {
        "self": url,
        "maxResults": limit,
        "startAt": start,
        "total": len(values),
        "isLast": start + limit >= len(values),
        "values": page,
    }
    if not body["isLast"]:
        body["nextPage"] = f"{url.split('?')[0]}?startAt={start + limit}&maxResults={limit}"
    return body


class JiraApi:
    """Route handlers over one store; `auth` holds the credentials the seed configures."""

    def __init__(self, store: JiraStore, auth: Mapping[str, Any] | None = None) -> None:
        self.store = store
        self.auth = dict(auth or {})

    def app(self) -> Starlette:
        """The Starlette app with every route under /rest/api/2 and /rest/api/3."""
        table: list[tuple[str, Handler, list[str]]] = [
            ("/serverInfo", self.server_info, ["GET"]),
            ("/field", self.fields, ["GET"]),
            ("/myself", self.myself, ["GET"]),
            ("/mypermissions", self.my_permissions, ["GET"]),
            ("/project/{key}", self.project, ["GET"]),
            ("/project/{key}/versions", self.versions, ["GET"]),
            ("/project/{key}/version", self.versions_paged, ["GET"]),
            ("/version/{id}", self.version, ["GET", "PUT"]),
            ("/search", self.search, ["GET", "POST"]),
            ("/search/jql", self.search_jql, ["GET", "POST"]),
            ("/issue", self.create_issue, ["POST"]),
            ("/issue/{key}", self.issue, ["GET", "PUT"]),
            ("/issue/{key}/comment", self.comments, ["GET", "POST"]),
            ("/issue/{key}/transitions", self.transitions, ["GET", "POST"]),
            ("/issue/{key}/properties", self.property_keys, ["GET"]),
            ("/issue/{key}/properties/{prop}", self.property, ["GET", "PUT"]),
            ("/issue/{key}/changelog", self.changelog, ["GET"]),
        ]
        routes = [
            Route(f"/rest/api/{v}{path}", self._guard(handler), methods=methods)
            for v in (2, 3)
            for path, handler, methods in table
        ]
        return Starlette(routes=routes)

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            self.store.base_url = str(request.base_url).rstrip("/")
            try:
                self._authenticate(request)
                return await handler(request)
            except JiraApiError as exc:
                return exc.response()

        return guarded

    def _authenticate(self, request: Request) -> None:
        if not self.auth:
            return
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic" and self.auth.get("api_token"):
            try:
                email, _, token = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                email, token = "", ""
            if _same(email, self.auth.get("email", "")) and _same(token, self.auth["api_token"]):
                return
        if (
            scheme.lower() == "bearer"
            and self.auth.get("token")
            and _same(value, self.auth["token"])
        ):
            return
        raise JiraApiError(401)

    def _require(self, project_key: str, permission: str, status: int) -> None:
        """Refuse a write the seed's `denied_permissions` deny, as Jira does (the status
        each operation documents for it)."""
        if permission in self.store.denied.get(project_key, set()):
            name = PROJECT_PERMISSIONS[permission][1]
            raise JiraApiError(status, f"You do not have the '{name}' permission in {project_key}.")

    def _require_on(self, issue_key: str, permission: str, status: int) -> None:
        issue = self.store.issue(issue_key)
        self._require(issue["fields"]["project"]["key"], permission, status)

    # --- instance --------------------------------------------------------------------

    async def server_info(self, request: Request) -> Response:
        cloud = self.store.deployment == "Cloud"
        numbers = [1001, 0, 0] if cloud else [9, 12, 15]
        return JSONResponse(
            {
                "baseUrl": self.store.base_url,
                "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.15",
                "versionNumbers": numbers,
                "deploymentType": self.store.deployment,
                "buildNumber": 100295 if cloud else 9120015,
                "buildDate": "2026-01-01T00:00:00.000+0000",
                "serverTime": jira_time(self.store.clock()),
                "scmInfo": "57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71",
                "serverTitle": "launchsync Jira sandbox",
            }
        )

    async def fields(self, request: Request) -> Response:
        return JSONResponse(self.store.fields)

    async def myself(self, request: Request) -> Response:
        return JSONResponse(render.user(self.store))

    async def my_permissions(self, request: Request) -> Response:
        query = request.query_params
        asked = [k for k in query.get("permissions", "").split(",") if k]
        if not asked and self.store.deployment == "Cloud":  # Cloud requires the list
            raise JiraApiError(400, "The permissions query parameter is required.")
        unknown = [k for k in asked if k not in PROJECT_PERMISSIONS]
        if unknown:
            raise JiraApiError(400, f"Unknown permission keys: {', '.join(unknown)}.")
        if "projectKey" in query or "projectId" in query:
            project = self.store.project(query.get("projectId") or query["projectKey"])
            denied = self.store.denied.get(project["key"], set())
        else:  # the global context: a permission is held if it is held in any project
            denials = [self.store.denied.get(key, set()) for key in self.store.projects]
            denied = set.intersection(*denials) if denials else set()
        listed = {k: permission_json(k, k not in denied) for k in asked or PROJECT_PERMISSIONS}
        return JSONResponse({"permissions": listed})

    # --- projects and versions -------------------------------------------------------

    async def project(self, request: Request) -> Response:
        project = self.store.project(request.path_params["key"])
        return JSONResponse(render.project_json(self.store, project))

    async def versions(self, request: Request) -> Response:
        versions = self.store.project_versions(request.path_params["key"])
        return JSONResponse([render.version_json(self.store, v) for v in versions])

    async def versions_paged(self, request: Request) -> Response:
        versions = self.store.project_versions(request.path_params["key"])
        start, limit = _page_params(request, VERSION_PAGE_MAX)
        rendered = [render.version_json(self.store, v) for v in versions[start : start + limit]]
        body = paged(versions, start, limit, str(request.url))
        return JSONResponse(body | {"values": rendered})

    async def version(self, request: Request) -> Response:
        version_id = request.path_params["id"]
        if request.method == "PUT":
            changes = await _json(request)
            return JSONResponse(
                render.version_json(self.store, self.store.update_version(version_id, changes))
            )
        return JSONResponse(render.version_json(self.store, self.store.version(version_id)))

    # --- search ----------------------------------------------------------------------

    async def search(self, request: Request) -> Response:
        if self.store.deployment == "Cloud":
            raise JiraApiError(410)
        return JSONResponse(search.server_search(self.store, await _params(request)))

    async def search_jql(self, request: Request) -> Response:
        if self.store.deployment != "Cloud":
            raise JiraApiError(404, "null for uri: /rest/api/2/search/jql")
        return JSONResponse(search.cloud_search(self.store, await _params(request)))

    # --- issues ----------------------------------------------------------------------

    async def create_issue(self, request: Request) -> Response:
        body = await _json(request)
        ref = (body.get("fields") or {}).get("project") if isinstance(body, dict) else None
        if isinstance(ref, dict):
            try:
                project = self.store.project(str(ref.get("key") or ref.get("id") or ""))
            except JiraApiError:
                pass  # an unknown project: create_issue refuses it with Jira's own 400
            else:
                self._require(project["key"], "CREATE_ISSUES", 403)
        issue = issues.create_issue(self.store, body)
        url = render.api_url(self.store, f"issue/{issue['id']}")
        return JSONResponse({"id": issue["id"], "key": issue["key"], "self": url}, status_code=201)

    async def issue(self, request: Request) -> Response:
        key = request.path_params["key"]
        if request.method == "PUT":
            self._require_on(key, "EDIT_ISSUES", 400)
            issues.edit_issue(self.store, key, await _json(request))
            return Response(status_code=204)
        query = request.query_params
        fields = query.getlist("fields") or None
        props = [p for v in query.getlist("properties") for p in v.split(",") if p]
        body = render.issue_json(
            self.store, self.store.issue(key), fields, query.get("expand", ""), props
        )
        return JSONResponse(body)

    async def comments(self, request: Request) -> Response:
        issue = self.store.issue(request.path_params["key"])
        if request.method == "POST":
            self._require_on(issue["key"], "ADD_COMMENTS", 400)
            comment = issues.add_comment(self.store, issue["key"], await _json(request))
            return JSONResponse(
                render.comment_json(self.store, issue["key"], comment), status_code=201
            )
        with self.store.lock:
            stored = list(self.store.comments.get(issue["key"], []))
        start, limit = _page_params(request, 5000, default=5000)
        page = [
            render.comment_json(self.store, issue["key"], c) for c in stored[start : start + limit]
        ]
        return JSONResponse(
            {"startAt": start, "maxResults": limit, "total": len(stored), "comments": page}
        )

    async def transitions(self, request: Request) -> Response:
        issue = self.store.issue(request.path_params["key"])
        if request.method == "POST":
            self._require_on(issue["key"], "TRANSITION_ISSUES", 400)
            issues.transition(self.store, issue["key"], await _json(request))
            return Response(status_code=204)
        current = (issue["fields"].get("status") or {}).get("name")
        listed = [
            transition_json(tid, name, self.store.base_url)
            for tid, name in TRANSITIONS
            if name != current
        ]
        return JSONResponse({"expand": "transitions", "transitions": listed})

    async def property_keys(self, request: Request) -> Response:
        issue = self.store.issue(request.path_params["key"])
        with self.store.lock:
            names = sorted(self.store.properties.get(issue["key"], {}))
        url = render.api_url(self.store, f"issue/{issue['id']}/properties")
        return JSONResponse({"keys": [{"self": f"{url}/{n}", "key": n} for n in names]})

    async def property(self, request: Request) -> Response:
        key, name = request.path_params["key"], request.path_params["prop"]
        if request.method == "PUT":
            self._require_on(key, "EDIT_ISSUES", 403)
            created = issues.set_property(self.store, key, name, await _json(request))
            return Response(status_code=201 if created else 200)
        return JSONResponse({"key": name, "value": issues.get_property(self.store, key, name)})

    async def changelog(self, request: Request) -> Response:
        if self.store.deployment != "Cloud":
            raise JiraApiError(404, "null for uri: /rest/api/2/issue/{key}/changelog")
        issue = self.store.issue(request.path_params["key"])
        with self.store.lock:
            entries = [
                render.history_json(self.store, h)
                for h in self.store.histories.get(issue["key"], [])
            ]
        start, limit = _page_params(request, 100, default=100)
        return JSONResponse(paged(entries, start, limit, str(request.url)))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), str(expected).encode())


def _page_params(request: Request, cap: int, default: int = 50) -> tuple[int, int]:
    try:
        start = max(int(request.query_params.get("startAt", 0)), 0)
        limit = int(request.query_params.get("maxResults", default))
    except ValueError:
        raise JiraApiError(400, "startAt and maxResults must be integers.") from None
    return start, min(max(limit, 1), cap)


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"{}")
    except json.JSONDecodeError:
        raise JiraApiError(400, "Unexpected character in the request body: not JSON.") from None


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "POST":
        body = await _json(request)
        return body if isinstance(body, dict) else {}
    query = request.query_params
    params: dict[str, Any] = {k: query.get(k) for k in query}
    for repeated in ("fields", "expand", "properties"):
        if repeated in query:
            params[repeated] = query.getlist(repeated)
    return params
