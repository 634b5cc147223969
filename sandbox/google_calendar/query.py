"""events.list parameters, parsed and checked the way the Calendar API checks them."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sandbox.google_calendar.discovery import check_query
from sandbox.google_calendar.errors import bad_request
from sandbox.google_calendar.times import parse_timestamp

DEFAULT_PAGE_SIZE = 250
# The API refuses these beside a syncToken: the token already fixes what is listed.
REFUSED_WITH_SYNC_TOKEN = (
    "timeMin",
    "timeMax",
    "updatedMin",
    "q",
    "orderBy",
    "privateExtendedProperty",
    "sharedExtendedProperty",
    "iCalUID",
)


@dataclass(frozen=True)
class ListQuery:
    """One events.list (or events.watch) request's parameters."""

    max_results: int = DEFAULT_PAGE_SIZE
    page_token: str | None = None
    sync_token: str | None = None
    single_events: bool = False
    show_deleted: bool = False
    order_by: str | None = None
    time_min: dt.datetime | None = None
    time_max: dt.datetime | None = None
    updated_min: dt.datetime | None = None
    text: str | None = None
    private: tuple[tuple[str, str], ...] = ()
    shared: tuple[tuple[str, str], ...] = ()
    ical_uid: str | None = None
    event_types: tuple[str, ...] = ()
    fingerprint: str = ""  # what a page token must have been issued for


def parse_list_query(items: list[tuple[str, str]], method_id: str) -> ListQuery:
    """The query of an events.list request, or a 400 the real API would answer too."""
    values = check_query(method_id, items)

    def one(name: str) -> str | None:
        return values[name][0] if name in values else None

    sync_token = one("syncToken")
    if sync_token is not None:
        refused = [name for name in REFUSED_WITH_SYNC_TOKEN if name in values]
        if refused:
            raise bad_request(f"syncToken cannot be combined with {', '.join(refused)}")
    order_by = one("orderBy")
    single = one("singleEvents") == "true"
    if order_by == "startTime" and not single:
        raise bad_request("The requested ordering is not available for the particular query.")
    stamps = ("timeMin", "timeMax", "updatedMin")
    stamp = {n: parse_timestamp(v, n) for n in stamps if (v := one(n))}
    page_bound = sorted((k, v) for k, v in items if k not in ("pageToken", "maxResults"))
    return ListQuery(
        max_results=int(one("maxResults") or DEFAULT_PAGE_SIZE),
        page_token=one("pageToken"),
        sync_token=sync_token,
        single_events=single,
        show_deleted=one("showDeleted") == "true",
        order_by=order_by,
        time_min=stamp.get("timeMin"),
        time_max=stamp.get("timeMax"),
        updated_min=stamp.get("updatedMin"),
        text=one("q"),
        private=_properties(values.get("privateExtendedProperty", [])),
        shared=_properties(values.get("sharedExtendedProperty", [])),
        ical_uid=one("iCalUID"),
        event_types=tuple(values.get("eventTypes", [])),
        fingerprint=hashlib.sha256(repr(page_bound).encode()).hexdigest()[:16],
    )


def _properties(given: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for text in given:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise bad_request(f"Extended property filter must be propertyName=value: {text!r}")
        pairs.append((key, value))
    return tuple(pairs)
