"""Expand a recurring event's RRULE/EXDATE/RDATE lines into instances, as singleEvents does."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

# An endless rule with no timeMax to stop at yields this many instances (about two years
# of a daily rule); Google stops somewhere too, and a list must end.
MAX_INSTANCES = 730
RULE_PREFIXES = ("RRULE", "EXRULE", "RDATE", "EXDATE")


def is_recurring(resource: Mapping[str, Any]) -> bool:
    """True for a recurring event's master (it has `recurrence` lines)."""
    return bool(resource.get("recurrence")) and not resource.get("recurringEventId")


def instances(resource: Mapping[str, Any], until: dt.datetime | None) -> list[dict[str, Any]]:
    """The instances of a master up to `until` (exclusive); [] when its rule is unreadable."""
    try:
        return list(_instances(resource, until))
    except (ValueError, TypeError, KeyError, ZoneInfoNotFoundError):
        return []


def _instances(resource: Mapping[str, Any], until: dt.datetime | None) -> Iterator[dict[str, Any]]:
    start, end = resource["start"], resource.get("end") or resource["start"]
    all_day = "date" in start and "dateTime" not in start
    first, length = _first_and_length(start, end, all_day)
    lines = [str(line) for line in resource["recurrence"] if str(line).startswith(RULE_PREFIXES)]
    rule = rrulestr("\n".join(lines), dtstart=first, forceset=True)
    for moment in itertools.islice(rule, MAX_INSTANCES):
        if until is not None and _aware(moment) >= until:
            return
        yield _instance(resource, moment, length, all_day)


def _first_and_length(
    start: Mapping[str, Any], end: Mapping[str, Any], all_day: bool
) -> tuple[dt.datetime, dt.timedelta]:
    if all_day:
        first = dt.datetime.combine(dt.date.fromisoformat(start["date"]), dt.time())
        return first, dt.datetime.combine(dt.date.fromisoformat(end["date"]), dt.time()) - first
    first = dt.datetime.fromisoformat(str(start["dateTime"]).replace("Z", "+00:00"))
    last = dt.datetime.fromisoformat(str(end["dateTime"]).replace("Z", "+00:00"))
    if start.get("timeZone"):
        # Expand in the event's own zone, so a 10:00 meeting stays at 10:00 across DST.
        first = first.astimezone(ZoneInfo(start["timeZone"]))
    return first, last - first


def _instance(
    master: Mapping[str, Any], moment: dt.datetime, length: dt.timedelta, all_day: bool
) -> dict[str, Any]:
    item = {k: copy.deepcopy(v) for k, v in master.items() if k != "recurrence"}
    zone = master["start"].get("timeZone")
    if all_day:
        stamp = moment.strftime("%Y%m%d")
        start: dict[str, Any] = {"date": moment.date().isoformat()}
        end: dict[str, Any] = {"date": (moment + length).date().isoformat()}
    else:
        stamp = moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        start = {"dateTime": moment.isoformat()}
        end = {"dateTime": (moment + length).isoformat()}
        if zone:
            start["timeZone"] = end["timeZone"] = zone
    item.update(
        id=f"{master['id']}_{stamp}",
        recurringEventId=master["id"],
        originalStartTime=dict(start),
        start=start,
        end=end,
    )
    return item


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
