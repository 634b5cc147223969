"""events.list: filtering, recurring-event expansion, key-set paging and sync tokens.

Items are ordered by a key (change number by default, or start time / updated when
`orderBy` asks), and a page token holds the last key given plus the change number the
listing started at: a page never skips an item because another one changed meanwhile,
and the final page's nextSyncToken is that starting number, so whatever changed during
the listing is delivered again by the next incremental sync.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

from sandbox.google_calendar.errors import ApiError, bad_request
from sandbox.google_calendar.query import ListQuery
from sandbox.google_calendar.recurrence import instances, is_recurring
from sandbox.google_calendar.store import CalendarState, CalendarStore, StoredEvent
from sandbox.google_calendar.times import bounds, moment_of, now_rfc3339

Key = tuple[Any, ...]
LISTINGS_KEPT = 8  # listings whose later pages are served from memory
CANCELLED_FIELDS = ("kind", "etag", "id", "status", "updated", "recurringEventId")


def list_events(store: CalendarStore, calendar_id: str, query: ListQuery) -> dict[str, Any]:
    """One page of events.list as the Calendar API answers it."""
    state, events, current = store.snapshot(calendar_id)
    after: Key | None = None
    snapshot = current
    if query.page_token:
        after, snapshot = _decode_page(query.page_token, query.fingerprint)
    since = _check_sync_token(store, state, events, query.sync_token)
    keyed = _selection(store, state, events, query, since, snapshot)
    begin = 0 if after is None else bisect.bisect_right(keyed, after, key=lambda pair: pair[0])
    page = keyed[begin : begin + query.max_results]
    response: dict[str, Any] = {
        "kind": "calendar#events",
        "etag": f'"p{snapshot}"',
        "summary": calendar_id,
        "description": "",
        "updated": now_rfc3339(),
        "timeZone": state.time_zone,
        "accessRole": state.access_role,
        "defaultReminders": [],
        "items": [_render(item) for _, item in page],
    }
    if len(keyed) > begin + len(page):
        last = list(page[-1][0])
        response["nextPageToken"] = _encode({"k": last, "s": snapshot, "f": query.fingerprint})
    else:
        token = {"c": calendar_id, "g": state.generation, "s": snapshot}
        response["nextSyncToken"] = _encode(token)
    return response


def _selection(
    store: CalendarStore,
    state: CalendarState,
    events: list[StoredEvent],
    query: ListQuery,
    since: int | None,
    snapshot: int,
) -> list[tuple[Key, dict[str, Any]]]:
    """The sorted items of a listing, kept for its next pages (resources are never mutated
    in place, so a kept listing stays exactly as it was at `snapshot`)."""
    cache_key = (state.calendar_id, state.generation, query.fingerprint, since, snapshot)
    with store.lock:
        kept = store.listings.get(cache_key)
    if kept is not None:
        return kept
    keyed = sorted(_select(events, query, since, snapshot), key=lambda pair: pair[0])
    with store.lock:
        store.listings[cache_key] = keyed
        while len(store.listings) > LISTINGS_KEPT:
            store.listings.pop(next(iter(store.listings)))
    return keyed


def _check_sync_token(
    store: CalendarStore, state: CalendarState, events: list[StoredEvent], token: str | None
) -> int | None:
    """The change number a sync token stands for; 410 fullSyncRequired when it is stale."""
    if token is None:
        return None
    decoded = _decode(token, "sync token")
    if decoded.get("c") != state.calendar_id or decoded.get("g") != state.generation:
        raise ApiError(410, "fullSyncRequired")
    since = int(decoded["s"])
    limit = store.max_token_changes
    if limit is not None and sum(1 for e in events if e.seq > since) > limit:
        raise ApiError(410, "fullSyncRequired")
    return since


def _select(
    events: list[StoredEvent], query: ListQuery, since: int | None, snapshot: int
) -> Iterator[tuple[Key, dict[str, Any]]]:
    """(order key, resource) of every item the query lists, instances expanded."""
    exceptions = {_instance_ref(e.resource) for e in events if e.resource.get("recurringEventId")}
    for stored in events:
        if stored.seq > snapshot or (since is not None and stored.seq <= since):
            continue
        resource = stored.resource
        if since is None and not _passes(resource, query):
            continue
        if query.single_events and is_recurring(resource):
            for instance in instances(resource, query.time_max):
                if _instance_ref(instance) not in exceptions and _in_window(instance, query):
                    yield _key(instance, stored.seq, query), instance
        elif _in_window(resource, query):
            yield _key(resource, stored.seq, query), resource


def _passes(resource: Mapping[str, Any], query: ListQuery) -> bool:
    """The filters of a full listing (an incremental one lists every change)."""
    cancelled = resource.get("status") == "cancelled"
    if query.updated_min is not None:
        updated = moment_of({"dateTime": resource.get("updated")})
        if updated is None or updated < query.updated_min:
            return False
    if cancelled and not (query.show_deleted or query.updated_min is not None):
        return False
    if query.ical_uid is not None and resource.get("iCalUID") != query.ical_uid:
        return False
    if query.event_types and resource.get("eventType", "default") not in query.event_types:
        return False
    extended = resource.get("extendedProperties") or {}
    for scope, wanted in (("private", query.private), ("shared", query.shared)):
        have = extended.get(scope) or {}
        if any(have.get(key) != value for key, value in wanted):
            return False
    if query.text:
        haystack = " ".join(
            str(resource.get(field) or "") for field in ("summary", "description", "location")
        ).lower()
        return all(word in haystack for word in query.text.lower().split())
    return True


def _in_window(resource: Mapping[str, Any], query: ListQuery) -> bool:
    if query.time_min is None and query.time_max is None:
        return True
    span = bounds(resource)
    if span is None:
        return True  # unreadable times: listed, so a client can report the broken item
    start, end = span
    if query.time_max is not None and start >= query.time_max:
        return False
    if is_recurring(resource):
        return True  # a master spans its whole series; its first start says too little
    return query.time_min is None or end > query.time_min or start >= query.time_min


def _key(resource: Mapping[str, Any], seq: int, query: ListQuery) -> Key:
    if query.order_by == "startTime":
        span = bounds(resource)
        return (span[0].timestamp() if span else 0.0, str(resource["id"]))
    if query.order_by == "updated":
        return (str(resource.get("updated") or ""), str(resource["id"]))
    return (seq, str(resource["id"]))


def _instance_ref(resource: Mapping[str, Any]) -> tuple[str, dt.datetime | None]:
    return str(resource.get("recurringEventId")), moment_of(resource.get("originalStartTime"))


def _render(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A listed item; a cancelled one shrinks to what Google keeps of a deletion."""
    if resource.get("status") != "cancelled":
        return dict(resource)
    kept = {k: resource[k] for k in CANCELLED_FIELDS if k in resource}
    if "originalStartTime" in resource:
        kept["originalStartTime"] = resource["originalStartTime"]
    return kept


def _encode(payload: Mapping[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, what: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise bad_request(f"Invalid {what} value.") from None
    if not isinstance(decoded, dict):
        raise bad_request(f"Invalid {what} value.")
    return decoded


def _decode_page(token: str, fingerprint: str) -> tuple[Key, int]:
    decoded = _decode(token, "page token")
    if decoded.get("f") != fingerprint or not isinstance(decoded.get("k"), list):
        raise bad_request("Invalid page token value: it was issued for other parameters.")
    return tuple(decoded["k"]), int(decoded["s"])
