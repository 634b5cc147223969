"""Google Calendar as a CalendarSource, with optional write-back and watch channels.

Reads page lazily (`iter_pages`) with recurring events expanded (`singleEvents`). A read
with a sync token for every calendar is incremental (`Batch.complete` False, deletions as
cancelled events); a 410 on any calendar, or a calendar with no token yet, makes it a
clean full read of every calendar instead, because one Batch is either a delta or whole.
A calendar id that answers 404 is a problem named in `Batch.unread`; the others still read.
Every call goes through the shared retry policy (`connectors.retry.retrying`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from google.auth.credentials import Credentials

from connectors.base import Batch, WriteBack
from connectors.google_auth import GoogleCalendarSettings, build_service
from connectors.google_json import google_event_to_launch_event
from connectors.retry import RetryPolicy, page_of, retrying
from models.errors import ConfigError, ConnectorError, ItemError
from models.event import LaunchEvent
from models.plan import ItemProblem

SYSTEM = "Google Calendar"
# Access roles that may change events (writerWithoutPrivateAccess: all but private ones).
WRITER_ROLES = frozenset({"writer", "owner", "writerWithoutPrivateAccess"})
T = TypeVar("T")
log = logging.getLogger("launchsync.google_calendar")


class FullSyncRequired(Exception):
    """A stored sync token was refused with 410: the calendar must be read whole again."""

    def __init__(self, calendar_id: str) -> None:
        super().__init__(calendar_id)
        self.calendar_id = calendar_id


class CalendarNotFound(ConfigError):
    """A configured calendar id answered 404: it does not exist or is not shared with us."""

    PROBLEM = (
        "does not exist in Google Calendar or this account cannot see it;"
        " fix calendar.calendar_ids or share the calendar with the account"
    )

    def __init__(self, calendar_id: str) -> None:
        super().__init__(f"Google calendar {calendar_id!r} {self.PROBLEM}")
        self.calendar_id = calendar_id

    def problem(self) -> ItemProblem:
        """The calendar as a skipped item, so the other calendars still read."""
        return ItemProblem(item=f"calendar {self.calendar_id}", error=self.PROBLEM)


@dataclass(frozen=True)
class CalendarRead:
    """What one calendar's read returned."""

    events: list[LaunchEvent]
    problems: list[ItemProblem]
    sync_token: str | None


class GoogleCalendarSource:
    """Launch events from Google Calendar (or the sandbox emulator)."""

    def __init__(
        self,
        settings: GoogleCalendarSettings,
        *,
        credentials: Credentials | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.service = build_service(settings, credentials)
        self.etags: dict[tuple[str, str], str] = {}  # (calendar, event) -> etag last read

    # --- reading -----------------------------------------------------------------------

    def events(self, cursor: Mapping[str, str] | None = None) -> Batch[LaunchEvent]:
        """Every event (no cursor), or what changed since the cursor's sync tokens."""
        ids = self.settings.calendar_ids
        if cursor and all(cursor.get(calendar_id) for calendar_id in ids):
            try:
                return self._read_all({cid: cursor[cid] for cid in ids})
            except FullSyncRequired as exc:
                log.info("%s: sync token of %s expired; reading in full", SYSTEM, exc.calendar_id)
        return self._read_all(None)

    def _read_all(self, tokens: Mapping[str, str] | None) -> Batch[LaunchEvent]:
        items: list[LaunchEvent] = []
        problems: list[ItemProblem] = []
        next_tokens: dict[str, str] = {}
        unread: list[str] = []
        for calendar_id in self.settings.calendar_ids:
            try:
                read = self.read_calendar(calendar_id, tokens[calendar_id] if tokens else None)
            except CalendarNotFound as exc:
                # One wrong id must not hide the other calendars' events.
                problems.append(exc.problem())
                unread.append(calendar_id)
                continue
            items.extend(read.events)
            problems.extend(read.problems)
            if read.sync_token:
                next_tokens[calendar_id] = read.sync_token
        return Batch(
            tuple(items), tuple(problems), next_tokens, tokens is None, unread=tuple(unread)
        )

    def read_calendar(self, calendar_id: str, sync_token: str | None = None) -> CalendarRead:
        """One calendar, whole or since `sync_token`; a bad event is a problem, not a failure."""
        events: list[LaunchEvent] = []
        problems: list[ItemProblem] = []
        next_token: str | None = None
        for page in self.iter_pages(calendar_id, sync_token):
            for resource in page.get("items", []):
                try:
                    event = google_event_to_launch_event(resource, calendar_id)
                except ItemError as exc:
                    problems.append(ItemProblem(item=exc.item, error=exc.problem))
                    continue
                events.append(event)
                if resource.get("etag"):
                    self.etags[(calendar_id, event.id)] = str(resource["etag"])
            next_token = page.get("nextSyncToken") or next_token
        return CalendarRead(events, problems, next_token)

    def iter_pages(self, calendar_id: str, sync_token: str | None = None) -> Iterator[Any]:
        """events.list responses page by page; raises FullSyncRequired on a stale token."""
        params: dict[str, Any] = {
            "calendarId": calendar_id,
            "maxResults": self.settings.page_size,
            "singleEvents": True,
        }
        if sync_token:
            params["syncToken"] = sync_token  # deletions come back regardless of showDeleted
        else:
            params["showDeleted"] = False
            params.update(_window_params(self.settings))
        events = self.service.events()
        request = events.list(**params)
        seen: set[str | None] = set()
        while request is not None:
            response = self._call(f"events.list {calendar_id}", _page(request), calendar_id)
            yield response
            page_token = response.get("nextPageToken")
            if page_token in seen:  # a server repeating itself would otherwise loop forever
                raise ConnectorError(SYSTEM, f"events.list {calendar_id}", None, "page loop")
            seen.add(page_token)
            request = events.list_next(request, response)

    def _call(
        self, call: str, fn: Callable[[], T], calendar_id: str, *, idempotent: bool = True
    ) -> T:
        """`fn` under the retry policy, with 404 and 410 turned into what they mean here."""
        try:
            return retrying(SYSTEM, call, fn, policy=self.policy, idempotent=idempotent)
        except ConnectorError as exc:
            if exc.status == 404 and call.startswith(("events.list", "events.watch")):
                raise CalendarNotFound(calendar_id) from None
            if exc.status == 410 and call.startswith("events.list"):
                raise FullSyncRequired(calendar_id) from None
            raise

    def read_only_calendars(self) -> dict[str, str]:
        """The configured calendars whose events this account may not change, with its role.

        The role comes with events.list (`Events.accessRole`), reachable with the events
        scope write-back asks for; calendarList.get would need calendar.readonly too.
        A calendar that is not found is left to the read's own report.
        """
        refused: dict[str, str] = {}
        for calendar_id in self.settings.calendar_ids:
            events = self.service.events()
            request = events.list(calendarId=calendar_id, maxResults=1, fields="accessRole")
            try:
                page = self._call(f"events.list {calendar_id}", _resource(request), calendar_id)
            except CalendarNotFound:
                continue
            role = str(page.get("accessRole") or "none")
            if role not in WRITER_ROLES:
                refused[calendar_id] = role
        return refused

    # --- write-back --------------------------------------------------------------------

    def move_event(
        self, calendar_id: str, event_id: str, new_date: dt.date, etag: str | None = None
    ) -> WriteBack:
        """Move an event to `new_date` (same time of day and length), only over `etag`."""
        etag = self._etag_for(calendar_id, event_id, etag)
        call = f"events.get {calendar_id}/{event_id}"
        get = self.service.events().get(calendarId=calendar_id, eventId=event_id)
        current = self._call(call, _resource(get), calendar_id)
        if current.get("etag") != etag:
            return self._conflict(calendar_id, event_id)
        return self._patch(calendar_id, event_id, moved_to(current, new_date), etag)

    def mark_tentative(self, calendar_id: str, event_id: str, etag: str | None = None) -> WriteBack:
        """Mark an event tentative (its date is in doubt), only over `etag`."""
        etag = self._etag_for(calendar_id, event_id, etag)
        return self._patch(calendar_id, event_id, {"status": "tentative"}, etag)

    def _etag_for(self, calendar_id: str, event_id: str, etag: str | None) -> str:
        if not self.settings.write_back:
            raise ConfigError("calendar write-back is off; set calendar.write_back: true")
        known = etag or self.etags.get((calendar_id, event_id))
        if known is None:
            # Writing without an etag could overwrite an edit nobody here has seen.
            raise ConfigError(f"event {event_id} in {calendar_id}: no etag known; read it first")
        return known

    def _patch(
        self, calendar_id: str, event_id: str, body: Mapping[str, Any], etag: str
    ) -> WriteBack:
        request = self.service.events().patch(
            calendarId=calendar_id, eventId=event_id, body=dict(body)
        )
        request.headers["If-Match"] = etag
        call = f"events.patch {calendar_id}/{event_id}"
        try:
            # Not idempotent: a retry after a patch that landed would meet its own new etag.
            updated = self._call(call, _resource(request), calendar_id, idempotent=False)
        except ConnectorError as exc:
            if exc.status == 412:
                return self._conflict(calendar_id, event_id)
            raise
        self.etags[(calendar_id, event_id)] = str(updated["etag"])
        return WriteBack(calendar_id, event_id, True, "updated", str(updated["etag"]))

    def _conflict(self, calendar_id: str, event_id: str) -> WriteBack:
        log.info("%s: %s/%s changed since it was read; left as is", SYSTEM, calendar_id, event_id)
        message = (
            f"event {event_id} in {calendar_id} was edited since launchsync read it;"
            " left as the person set it (re-plan to see the new date)"
        )
        return WriteBack(calendar_id, event_id, False, message)

    # --- push channels -----------------------------------------------------------------

    def watch(
        self,
        calendar_id: str,
        address: str,
        token: str,
        channel_id: str,
        ttl: dt.timedelta | None = None,
    ) -> dict[str, Any]:
        """Open a push channel on a calendar's events; returns Google's Channel resource."""
        body: dict[str, Any] = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
        }
        if ttl is not None:
            expires = dt.datetime.now(dt.UTC) + ttl
            body["expiration"] = str(int(expires.timestamp() * 1000))
        request = self.service.events().watch(calendarId=calendar_id, body=body)
        channel: dict[str, Any] = self._call(
            f"events.watch {calendar_id}", _resource(request), calendar_id, idempotent=False
        )
        return channel

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        """Close a push channel opened by `watch`."""
        body = {"id": channel_id, "resourceId": resource_id}
        request = self.service.channels().stop(body=body)
        self._call(f"channels.stop {channel_id}", request.execute, "-")


def _page(request: Any) -> Callable[[], dict[str, Any]]:
    """An events.list page, shape-checked inside the retried call: a proxy's
    `{"items": "oops"}` is as transient as a truncated body."""
    execute = _resource(request)
    return lambda: page_of(execute(), "items")


def _resource(request: Any) -> Callable[[], dict[str, Any]]:
    """`request.execute` that insists on a JSON object back."""

    def execute() -> dict[str, Any]:
        body = request.execute()
        if not isinstance(body, dict):
            # googleapiclient hands an unparsable body back as text; a truncated response
            # is transient, and JSONDecodeError is what the retry policy retries for it.
            raise json.JSONDecodeError("response is not a JSON object", str(body)[:200], 0)
        return body

    return execute


def moved_to(current: Mapping[str, Any], new_date: dt.date) -> dict[str, Any]:
    """The patch body moving an event to `new_date`, keeping time of day, zone and length."""
    start, end = current["start"], current.get("end") or current["start"]
    if start.get("date"):
        length = dt.date.fromisoformat(end["date"]) - dt.date.fromisoformat(start["date"])
        # Patch merges objects: a stale dateTime beside the new date would be kept, so null it.
        return {
            "start": {"date": new_date.isoformat(), "dateTime": None},
            "end": {"date": (new_date + length).isoformat(), "dateTime": None},
        }
    first = dt.datetime.fromisoformat(str(start["dateTime"]).replace("Z", "+00:00"))
    last = dt.datetime.fromisoformat(str(end["dateTime"]).replace("Z", "+00:00"))
    zone_name = start.get("timeZone")
    if zone_name:
        # Same wall-clock time in the event's zone, even across a DST change.
        local = first.astimezone(ZoneInfo(zone_name))
        new_first = dt.datetime.combine(new_date, local.time(), ZoneInfo(zone_name))
    else:
        new_first = dt.datetime.combine(new_date, first.timetz())
    new_last = new_first + (last - first)
    zone = {"timeZone": zone_name} if zone_name else {}
    return {
        "start": {"dateTime": new_first.isoformat(), "date": None, **zone},
        "end": {"dateTime": new_last.isoformat(), "date": None, **zone},
    }


def _window_params(settings: GoogleCalendarSettings) -> dict[str, str]:
    window = settings.window
    if window is None:
        return {}
    start, end = window.instants()
    return {"timeMin": start.isoformat(), "timeMax": end.isoformat()}
