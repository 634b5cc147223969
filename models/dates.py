"""Date semantics, decided once: which calendar day an event falls on in the business zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.errors import ConfigError
from models.event import LaunchEvent

ONE_DAY = dt.timedelta(days=1)
# Item dates must leave room for offsets, notice windows and time zones inside Python's
# calendar (years 1..9999): outside this range a date is a typo or a placeholder, and
# (fuzz-found) shifting it raised OverflowError and lost the whole plan.
EARLIEST_DAY, LATEST_DAY = dt.date(1000, 1, 1), dt.date(8999, 12, 31)
DATE_RANGE = "years 1000 to 8999"
# A day in one zone spans instants up to a zone's width either side of that day in UTC.
ZONE_MARGIN = dt.timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """The business days whose events a full read takes: [start, end)."""

    start: dt.date
    end: dt.date

    @classmethod
    def around(cls, today: dt.date, before: int = 30, after: int = 400) -> Window:
        """`before` days back to `after` days ahead of `today`."""
        return cls(today - dt.timedelta(days=before), today + dt.timedelta(days=after))

    def instants(self) -> tuple[dt.datetime, dt.datetime]:
        """UTC bounds wide enough for these days in any zone, for servers that ask instants
        (floating and all-day events then lie inside whatever their zone)."""
        start = dt.datetime.combine(self.start, dt.time(), dt.UTC) - ZONE_MARGIN
        return start, dt.datetime.combine(self.end, dt.time(), dt.UTC) + ZONE_MARGIN


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a ConfigError that says how to fix it."""
    try:
        return ZoneInfo(name)
    # OSError (fuzz-found): a name longer than the file system allows is a lookup too.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r}: use an IANA name such as 'America/Los_Angeles'"
        ) from exc


def plausible(moment: dt.date) -> bool:
    """Whether a date (or a date-time's date) lies between EARLIEST_DAY and LATEST_DAY."""
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    return EARLIEST_DAY <= day <= LATEST_DAY


def local_date(
    moment: dt.datetime | dt.date, business: ZoneInfo, floating_zone: str | None
) -> dt.date:
    """The business-zone calendar day of a date or date-time.

    A naive date-time is wall-clock time in `floating_zone` (or the business zone):
    Google sends those for events with a `timeZone` and no offset.
    """
    if not isinstance(moment, dt.datetime):
        return moment
    if moment.tzinfo is None:
        source = zone(floating_zone) if floating_zone else business
        moment = moment.replace(tzinfo=source)
    return moment.astimezone(business).date()


def event_day(event: LaunchEvent, business: ZoneInfo) -> dt.date:
    """The business-zone day a launch event happens on (its first day when multi-day)."""
    return local_date(event.start, business, event.timezone)


def event_last_day(event: LaunchEvent, business: ZoneInfo) -> dt.date:
    """The last business-zone day an event covers; all-day ends are exclusive."""
    if event.end is None:
        return event_day(event, business)
    if event.all_day:
        assert isinstance(event.end, dt.date)
        return max(event_day(event, business), event.end - ONE_DAY)
    last = local_date(event.end, business, event.timezone)
    # A timed event that ends exactly at midnight does not touch the next day.
    end = event.end
    if (
        isinstance(end, dt.datetime)
        and end.time() == dt.time(0)
        and last > event_day(event, business)
    ):
        last -= ONE_DAY
    return last
