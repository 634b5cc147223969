"""The HTTP surface: Calendar API v3 routes under /calendar/v3/ plus one admin route."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.google_calendar.discovery import check_query
from sandbox.google_calendar.errors import ApiError, bad_request
from sandbox.google_calendar.listing import list_events
from sandbox.google_calendar.push import PushHub
from sandbox.google_calendar.query import parse_list_query
from sandbox.google_calendar.store import CalendarStore

BASE = "/calendar/v3"
Handler = Callable[[Request], Awaitable[Response]]


class CalendarApi:
    """Request handlers over one store and one push hub."""

    def __init__(self, store: CalendarStore, hub: PushHub, access_token: str | None) -> None:
        self.store = store
        self.hub = hub
        self.access_token = access_token

    def app(self) -> Starlette:
        """The Starlette app (without fault injection)."""
        events = BASE + "/calendars/{calendar_id}/events"
        routes = [
            Route(events, self._guard(self.list), methods=["GET"]),
            Route(events, self._guard(self.insert), methods=["POST"]),
            Route(events + "/watch", self._guard(self.watch), methods=["POST"]),
            Route(events + "/{event_id}", self._guard(self.get), methods=["GET"]),
            Route(events + "/{event_id}", self._guard(self.patch), methods=["PATCH"]),
            Route(events + "/{event_id}", self._guard(self.delete), methods=["DELETE"]),
            Route(BASE + "/channels/stop", self._guard(self.stop), methods=["POST"]),
            Route("/_google/expire-sync-tokens", self.expire, methods=["POST"]),
            Route("/{path:path}", self._guard(self.not_served)),
        ]
        return Starlette(routes=routes)

    def _guard(self, handler: Handler) -> Handler:
        """Check the bearer token (when one is set) and answer ApiErrors in Google's shape."""

        async def guarded(request: Request) -> Response:
            try:
                if self.access_token is not None:
                    given = request.headers.get("authorization", "")
                    if given != f"Bearer {self.access_token}":
                        raise ApiError(401)
                return await handler(request)
            except ApiError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)

        return guarded

    async def list(self, request: Request) -> Response:
        """events.list."""
        query = parse_list_query(request.query_params.multi_items(), "calendar.events.list")
        page = list_events(self.store, request.path_params["calendar_id"], query)
        return JSONResponse(page)

    async def get(self, request: Request) -> Response:
        """events.get."""
        check_query("calendar.events.get", request.query_params.multi_items())
        params = request.path_params
        return JSONResponse(self.store.get(params["calendar_id"], params["event_id"]))

    async def insert(self, request: Request) -> Response:
        """events.insert."""
        check_query("calendar.events.insert", request.query_params.multi_items())
        body = await _json_body(request)
        return JSONResponse(self.store.insert(request.path_params["calendar_id"], body))

    async def patch(self, request: Request) -> Response:
        """events.patch; honours If-Match."""
        check_query("calendar.events.patch", request.query_params.multi_items())
        body = await _json_body(request)
        params = request.path_params
        updated = self.store.patch(
            params["calendar_id"], params["event_id"], body, request.headers.get("if-match")
        )
        return JSONResponse(updated)

    async def delete(self, request: Request) -> Response:
        """events.delete: 204 and the event is cancelled."""
        check_query("calendar.events.delete", request.query_params.multi_items())
        params = request.path_params
        self.store.delete(params["calendar_id"], params["event_id"])
        return Response(status_code=204)

    async def watch(self, request: Request) -> Response:
        """events.watch: open a push channel on a calendar's events."""
        parse_list_query(request.query_params.multi_items(), "calendar.events.watch")
        calendar_id = request.path_params["calendar_id"]
        self.store.calendar(calendar_id)  # 404 for an unknown calendar before any channel
        base = str(request.base_url).rstrip("/")
        uri = f"{base}{BASE}/calendars/{quote(calendar_id, safe='@')}/events?alt=json"
        return JSONResponse(self.hub.watch(calendar_id, await _json_body(request), uri))

    async def stop(self, request: Request) -> Response:
        """channels.stop."""
        check_query("calendar.channels.stop", request.query_params.multi_items())
        self.hub.stop(await _json_body(request))
        return Response(status_code=204)

    async def expire(self, request: Request) -> Response:
        """Admin: make the sync tokens handed out so far stale (all calendars, or ?calendarId)."""
        try:
            self.store.expire_tokens(request.query_params.get("calendarId"))
        except ApiError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse({"expired": True})

    async def not_served(self, request: Request) -> Response:
        """Anything else: Google's 404 shape."""
        raise ApiError(404, "notFound", f"{request.method} {request.url.path} is not served")


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise bad_request("Parse Error", "parseError") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "parseError")
    return body
