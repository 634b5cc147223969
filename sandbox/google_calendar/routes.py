"""The HTTP surface: Calendar API v3 routes under /calendar/v3/, one admin route, and the
page an event's `htmlLink` opens (Google's web UI, reduced to the event's title and dates).
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import zlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox.google_calendar.discovery import check_query
from sandbox.google_calendar.errors import ApiError, bad_request, writer_required
from sandbox.google_calendar.listing import list_events
from sandbox.google_calendar.push import PushHub
from sandbox.google_calendar.query import parse_list_query
from sandbox.google_calendar.store import WRITER_ROLES, CalendarState, CalendarStore

BASE = "/calendar/v3"
CALENDAR_LIST = BASE + "/users/me/calendarList"
EVENT_PAGE = "/calendar/event"
Handler = Callable[[Request], Awaitable[Response]]


def html_link(base_url: str, calendar_id: str, event_id: str) -> str:
    """An event's `htmlLink` on this emulator; `eid` is Google's: base64 of "eventId calendarId"."""
    eid = base64.urlsafe_b64encode(f"{event_id} {calendar_id}".encode()).decode().rstrip("=")
    return f"{base_url.rstrip('/')}{EVENT_PAGE}?eid={eid}"


def _with_link(resource: dict[str, Any], request: Request, calendar_id: str) -> dict[str, Any]:
    """Google's event resource always carries `htmlLink`; a seed's own link is kept."""
    if "id" in resource:
        link = html_link(str(request.base_url), calendar_id, str(resource["id"]))
        resource.setdefault("htmlLink", link)
    return resource


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
            Route(CALENDAR_LIST + "/{calendar_id}", self._guard(self.list_entry), methods=["GET"]),
            Route("/_google/expire-sync-tokens", self.expire, methods=["POST"]),
            Route(EVENT_PAGE, self.event_page, methods=["GET"]),  # a browser sends no token
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
        calendar_id = request.path_params["calendar_id"]
        page = list_events(self.store, calendar_id, query)
        for item in page["items"]:
            if item.get("status") != "cancelled":  # a deletion keeps only a few fields
                _with_link(item, request, calendar_id)
        return JSONResponse(page)

    async def get(self, request: Request) -> Response:
        """events.get."""
        check_query("calendar.events.get", request.query_params.multi_items())
        calendar_id, event_id = request.path_params["calendar_id"], request.path_params["event_id"]
        return JSONResponse(_with_link(self.store.get(calendar_id, event_id), request, calendar_id))

    async def insert(self, request: Request) -> Response:
        """events.insert."""
        check_query("calendar.events.insert", request.query_params.multi_items())
        body = await _json_body(request)
        calendar_id = request.path_params["calendar_id"]
        self._writable(calendar_id)
        return JSONResponse(_with_link(self.store.insert(calendar_id, body), request, calendar_id))

    async def patch(self, request: Request) -> Response:
        """events.patch; honours If-Match."""
        check_query("calendar.events.patch", request.query_params.multi_items())
        body = await _json_body(request)
        params = request.path_params
        self._writable(params["calendar_id"])
        updated = self.store.patch(
            params["calendar_id"], params["event_id"], body, request.headers.get("if-match")
        )
        return JSONResponse(_with_link(updated, request, params["calendar_id"]))

    async def delete(self, request: Request) -> Response:
        """events.delete: 204 and the event is cancelled."""
        check_query("calendar.events.delete", request.query_params.multi_items())
        params = request.path_params
        self._writable(params["calendar_id"])
        self.store.delete(params["calendar_id"], params["event_id"])
        return Response(status_code=204)

    def _writable(self, calendar_id: str) -> None:
        """404 for an unknown calendar, then Google's 403 when the caller may only read it."""
        if self.store.calendar(calendar_id).access_role not in WRITER_ROLES:
            raise writer_required()

    async def list_entry(self, request: Request) -> Response:
        """calendarList.get: the calendar as the caller's calendar list shows it."""
        check_query("calendar.calendarList.get", request.query_params.multi_items())
        state = self.store.calendar(request.path_params["calendar_id"])
        return JSONResponse(_list_entry(state))

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

    async def event_page(self, request: Request) -> Response:
        """What an event's htmlLink opens: its title and dates (an instance shows its series)."""
        found = self._linked_event(request.query_params.get("eid", ""))
        if found is None:
            return HTMLResponse("<h1>Could not find the requested event</h1>", status_code=404)
        title = html.escape(str(found.get("summary") or "(No title)"))
        start, end = found.get("start") or {}, found.get("end") or {}
        when = " to ".join(str(t.get("date") or t.get("dateTime") or "") for t in (start, end))
        return HTMLResponse(f"<h1>{title}</h1><p>{html.escape(when)}</p>")

    def _linked_event(self, eid: str) -> dict[str, Any] | None:
        try:
            decoded = base64.urlsafe_b64decode(eid + "=" * (-len(eid) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        event_id, _, calendar_id = decoded.partition(" ")
        for candidate in (event_id, event_id.rsplit("_", 1)[0]):  # an instance: its master
            try:
                return self.store.get(calendar_id, candidate)
            except ApiError:
                continue
        return None

    async def not_served(self, request: Request) -> Response:
        """Anything else: Google's 404 shape."""
        raise ApiError(404, "notFound", f"{request.method} {request.url.path} is not served")


def _list_entry(state: CalendarState) -> dict[str, Any]:
    """A CalendarListEntry as Google renders a calendar shared with the caller."""
    return {
        "kind": "calendar#calendarListEntry",
        "etag": f'"{zlib.crc32(f"{state.calendar_id} {state.access_role}".encode())}"',
        "id": state.calendar_id,
        "summary": state.calendar_id,
        "timeZone": state.time_zone,
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": state.access_role,
        "defaultReminders": [],
    }


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise bad_request("Parse Error", "parseError") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "parseError")
    return body
