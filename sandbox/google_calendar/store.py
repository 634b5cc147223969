"""The emulator's state: calendars of event resources, each change numbered.

Every change (seed load, insert, patch, delete) takes the next number of one global
sequence; an event remembers the number of its last change. Sync tokens are such a
number, so an incremental list is "events whose number is above the token's". The etag
is derived from the number too, so it changes on every change.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.google_calendar.errors import ApiError, bad_request
from sandbox.google_calendar.times import now_rfc3339

Listener = Callable[[str], None]
# Fields only the server writes; a client's values for them are ignored (as Google does).
SERVER_FIELDS = ("kind", "etag", "created", "updated", "htmlLink")
# CalendarListEntry.accessRole's values, and those that may change events.
ACCESS_ROLES = ("freeBusyReader", "reader", "writerWithoutPrivateAccess", "writer", "owner")
WRITER_ROLES = frozenset({"writerWithoutPrivateAccess", "writer", "owner"})


@dataclass
class StoredEvent:
    """One event resource and the number of its last change."""

    resource: dict[str, Any]
    seq: int


@dataclass
class CalendarState:
    """One calendar: its events in insertion order and its token generation."""

    calendar_id: str
    events: dict[str, StoredEvent] = field(default_factory=dict)
    generation: int = 0  # bumped to expire every sync token handed out so far
    time_zone: str = "UTC"
    access_role: str = "owner"  # the caller's role: events.list and calendarList.get say it


class CalendarStore:
    """Thread-safe: the server thread and the test thread both change it."""

    def __init__(self, max_token_changes: int | None = None) -> None:
        self.calendars: dict[str, CalendarState] = {}
        self.max_token_changes = max_token_changes  # a token older than this many changes: 410
        self.lock = threading.RLock()
        self._seq = 0
        self._listeners: list[Listener] = []
        # Sorted listings kept for their next pages: see listing._selection.
        self.listings: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}

    # --- reading -----------------------------------------------------------------------

    def calendar(self, calendar_id: str) -> CalendarState:
        """The calendar, or 404 notFound as Google answers for an unknown or hidden one."""
        state = self.calendars.get(calendar_id)
        if state is None:
            raise ApiError(404, "notFound", f"Not Found: calendar {calendar_id}")
        return state

    def snapshot(self, calendar_id: str) -> tuple[CalendarState, list[StoredEvent], int]:
        """The calendar, a copy of its event list, and the current change number."""
        with self.lock:
            state = self.calendar(calendar_id)
            return state, list(state.events.values()), self._seq

    def get(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        """A copy of one event resource (cancelled ones too, as Google does)."""
        with self.lock:
            return copy.deepcopy(self._stored(calendar_id, event_id).resource)

    def _stored(self, calendar_id: str, event_id: str) -> StoredEvent:
        stored = self.calendar(calendar_id).events.get(event_id)
        if stored is None:
            raise ApiError(404, "notFound", f"Not Found: event {event_id}")
        return stored

    # --- changing ----------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(calendar_id)` after every change (push notifications)."""
        self._listeners.append(listener)

    def add_calendar(self, calendar_id: str, events: Iterable[Mapping[str, Any]] = ()) -> None:
        """Create a calendar holding these resources as given (seed: no validation)."""
        with self.lock:
            state = self.calendars.setdefault(calendar_id, CalendarState(calendar_id))
            for resource in events:
                item = copy.deepcopy(dict(resource))
                item.setdefault("id", secrets.token_hex(13))
                seq = self._next()
                item.setdefault("kind", "calendar#event")
                item.setdefault("status", "confirmed")
                item.setdefault("updated", now_rfc3339())
                item["etag"] = etag_of(seq)
                state.events[str(item["id"])] = StoredEvent(item, seq)

    def insert(self, calendar_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """events.insert: a new event; start and end are required, as by Google."""
        for side in ("start", "end"):
            if not isinstance(body.get(side), Mapping):
                raise bad_request(f"Missing {side} time.", "required")
        with self.lock:
            state = self.calendar(calendar_id)
            event_id = str(body.get("id") or secrets.token_hex(13))
            if event_id in state.events:
                raise ApiError(409, "duplicate")
            item = {k: copy.deepcopy(v) for k, v in body.items() if k not in SERVER_FIELDS}
            now = now_rfc3339()
            item.update(id=event_id, kind="calendar#event", created=now, updated=now)
            item.setdefault("status", "confirmed")
            item.setdefault("iCalUID", f"{event_id}@google.com")
            item.setdefault("sequence", 0)  # htmlLink: added on the way out, on the serving host
            seq = self._next()
            item["etag"] = etag_of(seq)
            state.events[event_id] = StoredEvent(item, seq)
            result = copy.deepcopy(item)
        self._notify(calendar_id)
        return result

    def patch(
        self,
        calendar_id: str,
        event_id: str,
        body: Mapping[str, Any],
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """events.patch: merge `body` in; with If-Match, only over the etag given (else 412)."""
        with self.lock:
            stored = self._stored(calendar_id, event_id)
            if if_match is not None and if_match not in ("*", stored.resource["etag"]):
                raise ApiError(412, "conditionNotMet")
            item = copy.deepcopy(stored.resource)
            merge(item, {k: v for k, v in body.items() if k not in (*SERVER_FIELDS, "id")})
            if any(key in body for key in ("start", "end", "recurrence")):
                item["sequence"] = int(item.get("sequence") or 0) + 1
            self._touch(calendar_id, item)
            result = copy.deepcopy(item)
        self._notify(calendar_id)
        return result

    def delete(self, calendar_id: str, event_id: str) -> None:
        """events.delete: the event stays, cancelled, so incremental syncs see the deletion."""
        with self.lock:
            stored = self._stored(calendar_id, event_id)
            if stored.resource.get("status") == "cancelled":
                raise ApiError(410, "deleted", "Resource has been deleted")
            item = copy.deepcopy(stored.resource)
            item["status"] = "cancelled"
            self._touch(calendar_id, item)
        self._notify(calendar_id)

    def expire_tokens(self, calendar_id: str | None = None) -> None:
        """Make every sync token handed out so far stale (the next use answers 410)."""
        with self.lock:
            targets = [self.calendar(calendar_id)] if calendar_id else self.calendars.values()
            for state in targets:
                state.generation += 1

    def _touch(self, calendar_id: str, item: dict[str, Any]) -> None:
        seq = self._next()
        item["etag"] = etag_of(seq)
        item["updated"] = now_rfc3339()
        self.calendars[calendar_id].events[str(item["id"])] = StoredEvent(item, seq)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _notify(self, calendar_id: str) -> None:
        for listener in list(self._listeners):
            listener(calendar_id)


def etag_of(seq: int) -> str:
    """Google's etags are quoted digit strings; ours are the change number."""
    return f'"{3_400_000_000_000_000 + seq}"'


def merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Patch semantics: objects merge key by key, null removes, anything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
