"""Pure translation of Google Calendar v3 event resources into launch events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from models.dates import DATE_RANGE, plausible
from models.dates import zone as named_zone
from models.errors import ConfigError, ItemError
from models.event import EventStatus, LaunchEvent


def _moment(when: Any, item: str, side: str) -> tuple[dt.date | dt.datetime, str | None]:
    """A Google `EventDateTime` as (date or datetime, its timeZone)."""
    if not isinstance(when, Mapping):
        raise ItemError(item, f"has no {side}; give it {side}.date or {side}.dateTime")
    zone = when.get("timeZone")
    moment: dt.date | dt.datetime
    try:
        if when.get("dateTime"):
            moment = dt.datetime.fromisoformat(str(when["dateTime"]).replace("Z", "+00:00"))
        elif when.get("date"):
            moment = dt.date.fromisoformat(str(when["date"]))
        else:
            raise ItemError(item, f"has no {side}; give it {side}.date or {side}.dateTime")
    except ValueError:
        raise ItemError(
            item, f"{side} {dict(when)!r} is not a date; use RFC 3339 (2026-03-01T10:00:00Z)"
        ) from None
    # Fuzz-found: both used to pass here and crash the reconciler, losing the whole plan.
    if not plausible(moment):
        raise ItemError(item, f"{side} {dict(when)!r} is out of range; use a date in {DATE_RANGE}")
    if isinstance(moment, dt.datetime) and moment.tzinfo is None and zone is not None:
        try:
            named_zone(zone)  # a floating time is read in this zone
        except (ConfigError, TypeError):
            raise ItemError(
                item, f"{side}.timeZone {zone!r} is unknown; use an IANA name like Europe/Berlin"
            ) from None
    return moment, zone


def _properties(resource: Mapping[str, Any]) -> dict[str, str]:
    extended = resource.get("extendedProperties")
    if not isinstance(extended, Mapping):
        return {}  # fuzz-found: a non-object here crashed the read instead of being ignored
    merged: dict[str, str] = {}
    # Private properties win: they are what launchsync itself writes.
    for scope in ("shared", "private"):
        values = extended.get(scope) or {}
        if isinstance(values, Mapping):
            merged.update({str(k): str(v) for k, v in values.items()})
    return merged


def google_event_to_launch_event(resource: Mapping[str, Any], calendar_id: str) -> LaunchEvent:
    """One Google Calendar event resource as a LaunchEvent of `calendar_id`."""
    event_id = resource.get("id")
    item = f"event {event_id or resource.get('summary') or '?'} in calendar {calendar_id}"
    if not event_id:
        raise ItemError(item, "has no 'id'; export events with their ids")
    status = str(resource.get("status") or "confirmed")
    if status not in EventStatus.__members__.values():
        raise ItemError(item, f"status {status!r} is unknown; use confirmed, tentative, cancelled")
    if status == EventStatus.CANCELLED and "start" not in resource:
        # Deleted events in incremental results carry only id and status.
        start: dt.date | dt.datetime = dt.date.min
        end, zone = None, None
    else:
        start, zone = _moment(resource.get("start"), item, "start")
        end = _moment(resource["end"], item, "end")[0] if resource.get("end") else None
    organizer = resource.get("organizer") or {}
    try:
        return LaunchEvent(
            source="google",
            calendar_id=calendar_id,
            id=str(event_id),
            title=str(resource.get("summary") or ""),
            description=str(resource.get("description") or ""),
            start=start,
            end=end,
            timezone=zone,
            status=EventStatus(status),
            properties=_properties(resource),
            organizer=organizer.get("email") if isinstance(organizer, Mapping) else None,
            url=resource.get("htmlLink"),
            updated=_updated(resource.get("updated")),
            etag=str(resource["etag"]) if resource.get("etag") else None,
        )
    except ValueError as exc:
        first = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
        raise ItemError(item, f"{first}; fix its start and end") from None


def _updated(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
