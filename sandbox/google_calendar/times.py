"""RFC 3339 and Google `EventDateTime` helpers shared by the store and the listing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sandbox.google_calendar.errors import bad_request


def now_rfc3339() -> str:
    """The current time as Google writes `updated`: UTC, milliseconds, `Z`."""
    return format_utc(dt.datetime.now(dt.UTC))


def format_utc(moment: dt.datetime) -> str:
    """An aware datetime as `2026-03-01T10:00:00.000Z`."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_timestamp(value: str, name: str) -> dt.datetime:
    """A query parameter timestamp; Google refuses one without an offset (400)."""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"Invalid value for {name}: {value!r}", "badRequest") from None
    if moment.tzinfo is None:
        raise bad_request(f"{name} must have a time zone offset: {value!r}", "badRequest")
    return moment


def moment_of(when: Any, zone: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """An `EventDateTime` as an aware datetime (all-day: midnight in `zone`); None if unreadable."""
    if not isinstance(when, Mapping):
        return None
    try:
        if when.get("dateTime"):
            moment = dt.datetime.fromisoformat(str(when["dateTime"]).replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=zone)
        if when.get("date"):
            day = dt.date.fromisoformat(str(when["date"]))
            return dt.datetime.combine(day, dt.time(), zone)
    except ValueError:
        return None
    return None


def bounds(resource: Mapping[str, Any]) -> tuple[dt.datetime, dt.datetime] | None:
    """(start, end) of an event as aware datetimes; None when its start is unreadable."""
    start = moment_of(resource.get("start"))
    if start is None:
        return None
    end = moment_of(resource.get("end")) or start
    return start, max(start, end)
