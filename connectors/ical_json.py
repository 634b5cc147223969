"""Pure translation of iCalendar data (RFC 5545) into launch events, shared by ICS and CalDAV.

`read_ical(text, ...)` parses one feed or resource, leaves out (and names) every bad event,
expands recurrences inside a window and translates each occurrence with
`vevent_to_launch_event`. Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from models.dates import Window
from models.errors import ItemError
from models.event import EventStatus, LaunchEvent
from models.linking import ISSUE_PROPERTY, VERSION_PROPERTY
from models.plan import ItemProblem

# iCalendar property -> LaunchEvent.properties key (the linking rules read these).
LINK_PROPERTIES = {
    "X-JIRA-VERSION-ID": VERSION_PROPERTY,
    "X-JIRA-ISSUE-KEY": ISSUE_PROPERTY,
    "X-LAUNCH-TYPE": "launchType",
}
STATUSES = {"CANCELLED": EventStatus.CANCELLED, "TENTATIVE": EventStatus.TENTATIVE}
RECURRENCE_PROPERTIES = ("RRULE", "RDATE", "RECURRENCE-ID")
SUB_DAILY = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})
QUOTED = re.compile(r"'([^']{3,})'")


@dataclass
class IcalRead:
    """The events of one parsed iCalendar text and the problems met on the way."""

    events: list[LaunchEvent] = field(default_factory=list)
    problems: list[ItemProblem] = field(default_factory=list)

    def extend(self, other: IcalRead) -> None:
        """Add another read's events and problems to this one."""
        self.events.extend(other.events)
        self.problems.extend(other.problems)


def parse_ical(text: str | bytes) -> Any:
    """The VCALENDAR in `text`; ValueError when it is not iCalendar at all."""
    calendars = icalendar.Calendar.from_ical(text, multiple=True)
    if not calendars:
        raise ValueError("no BEGIN:VCALENDAR found")
    calendar = calendars[0]
    for extra in calendars[1:]:  # some exports concatenate calendars; read them all
        for component in extra.subcomponents:
            calendar.add_component(component)
    return calendar


def read_ical(
    text: str | bytes, *, source: str, calendar_id: str, window: Window, label: str = ""
) -> IcalRead:
    """Every event occurrence in `window` of one iCalendar text; bad events become problems."""
    where = label or calendar_id
    calendar = parse_ical(text)
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    read = IcalRead()
    for message in calendar.errors:
        read.problems.append(_line_problem(f"{source} calendar {where}", message, raw))
    good: list[Any] = []
    for component in calendar.subcomponents:
        problem = _event_problem(component, source, where, raw)
        if problem is None:
            good.append(component)
        else:
            read.problems.append(problem)
    calendar.subcomponents[:] = good
    calendar = _standard_zones(calendar, source, where, read)
    recurring = _recurring_uids(calendar)
    for occurrence in _occurrences(calendar, window, source, where, read):
        try:
            uid = str(occurrence.get("UID"))
            read.events.append(
                vevent_to_launch_event(
                    occurrence, source=source, calendar_id=calendar_id, recurring=uid in recurring
                )
            )
        except ItemError as exc:
            read.problems.append(ItemProblem(item=exc.item, error=exc.problem))
    return read


def vevent_to_launch_event(
    vevent: Any, *, source: str, calendar_id: str, recurring: bool = False
) -> LaunchEvent:
    """One VEVENT (an occurrence when `recurring`) as a LaunchEvent of `calendar_id`."""
    uid = str(vevent.get("UID") or "")
    item = f"event {uid or vevent.get('SUMMARY') or '?'} in {source} calendar {calendar_id}"
    if not uid:
        raise ItemError(item, "has no UID; give every VEVENT a UID line")
    start = _moment(vevent, "DTSTART", item)
    if start is None:
        raise ItemError(item, "has no DTSTART; add a DTSTART line (DATE or DATE-TIME)")
    end = _end(vevent, start, item)
    status = STATUSES.get(str(vevent.get("STATUS") or "").upper(), EventStatus.CONFIRMED)
    key = _occurrence_key(_moment(vevent, "RECURRENCE-ID", item) or start)
    try:
        return LaunchEvent(
            source=source,
            calendar_id=calendar_id,
            id=f"{uid}/{key}" if recurring else uid,
            title=str(vevent.get("SUMMARY") or ""),
            description=str(vevent.get("DESCRIPTION") or ""),
            start=start,
            end=end,
            timezone=_zone_name(start),
            status=status,
            properties=_properties(vevent),
            organizer=_organizer(vevent.get("ORGANIZER")),
            url=str(vevent["URL"]) if vevent.get("URL") else None,
            updated=_updated(vevent, item),
        )
    except ValueError as exc:
        first = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
        raise ItemError(item, f"{first}; fix its DTSTART and DTEND") from None


def _moment(vevent: Any, name: str, item: str) -> dt.date | dt.datetime | None:
    if name not in vevent:
        return None
    try:
        value = vevent.decoded(name)
    except (ValueError, TypeError, KeyError) as exc:
        raise ItemError(item, f"{name} cannot be read ({exc}); use 20260301T100000Z") from None
    if not isinstance(value, dt.date):
        raise ItemError(item, f"{name} is not a date; use 20260301 or 20260301T100000Z")
    return value


def _end(vevent: Any, start: dt.date, item: str) -> dt.date | dt.datetime:
    end = _moment(vevent, "DTEND", item)
    if end is None and "DURATION" in vevent:
        duration = vevent.decoded("DURATION")
        if isinstance(duration, dt.timedelta):
            try:
                end = start + duration
            except OverflowError:  # fuzz-found: DURATION:PT99999999H was a traceback
                raise ItemError(item, "its DURATION ends past the year 9999; fix it") from None
    if end is None:
        # RFC 5545 3.6.1: without DTEND an all-day event lasts one day, a timed one no time.
        is_timed = isinstance(start, dt.datetime)
        return start if is_timed else start + dt.timedelta(days=1)
    if isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
        raise ItemError(item, "DTSTART and DTEND differ in kind; make both DATE or DATE-TIME")
    if _floating(start) != _floating(end):
        raise ItemError(item, "DTSTART and DTEND mix floating and zoned times; give both a TZID")
    if end < start:  # type: ignore[operator]
        raise ItemError(item, "DTEND is before DTSTART; fix its DTSTART and DTEND")
    return end


def _floating(moment: dt.date) -> bool:
    return isinstance(moment, dt.datetime) and moment.tzinfo is None


def _occurrence_key(moment: dt.date) -> str:
    """A stable text for an occurrence: UTC for zoned times, so server and client agree."""
    if not isinstance(moment, dt.datetime):
        return moment.strftime("%Y%m%d")
    if moment.tzinfo is None:
        return moment.strftime("%Y%m%dT%H%M%S")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _zone_name(start: dt.date) -> str | None:
    tzinfo = start.tzinfo if isinstance(start, dt.datetime) else None
    return tzinfo.key if isinstance(tzinfo, ZoneInfo) else None


def _properties(vevent: Any) -> dict[str, str]:
    return {
        key: str(vevent[name]).strip()
        for name, key in LINK_PROPERTIES.items()
        if str(vevent.get(name) or "").strip()
    }


def _organizer(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)
    return text[7:] if text.lower().startswith("mailto:") else text


def _updated(vevent: Any, item: str) -> dt.datetime | None:
    moment = _moment(vevent, "LAST-MODIFIED", item) if "LAST-MODIFIED" in vevent else None
    return moment if isinstance(moment, dt.datetime) and moment.tzinfo else None


def _event_problem(component: Any, source: str, where: str, raw: str) -> ItemProblem | None:
    """Why a VEVENT must be left out (a broken line, no UID, no DTSTART), or None."""
    if component.name != "VEVENT":
        return None
    uid = str(component.get("UID") or "")
    item = f"event {uid or component.get('SUMMARY') or '?'} in {source} calendar {where}"
    if component.errors:
        return _line_problem(item, component.errors[0], raw)
    if not uid:
        return ItemProblem(item=item, error="has no UID; give every VEVENT a UID line")
    try:
        if _moment(component, "DTSTART", item) is None:
            return ItemProblem(item=item, error="has no DTSTART; add a DTSTART line")
        _end(component, _moment(component, "DTSTART", item) or dt.date.min, item)
    except ItemError as exc:
        return ItemProblem(item=exc.item, error=exc.problem)
    for rule in _rrules(component):
        if not isinstance(rule, dict):  # a malformed RRULE; the expansion names it later
            continue
        frequency = str((rule.get("FREQ") or [""])[0]).upper()
        if frequency in SUB_DAILY:
            # Found by reading the code: FREQ=SECONDLY over a year is 30 million occurrences.
            return ItemProblem(
                item=item,
                error=f"repeats more often than daily (FREQ={frequency}); launch events are "
                "read by the day, so give it a DAILY or slower RRULE",
            )
    return None


def _rrules(component: Any) -> list[Any]:
    rules = component.get("RRULE")
    if rules is None:
        return []
    return list(rules) if isinstance(rules, list) else [rules]


def _line_problem(item: str, error: Any, raw: str) -> ItemProblem:
    """A broken content line, located by its text in the raw feed."""
    message = str(error[1] if isinstance(error, tuple) else error)
    found = QUOTED.search(message)
    line = _line_number(raw, found.group(1)) if found else None
    where = f" line {line}" if line else ""
    text = found.group(1) if found else message
    return ItemProblem(
        item=f"{item}{where}",
        error=f"cannot parse {text!r}; fix it as NAME;PARAM=VALUE:VALUE or remove the line",
    )


def _line_number(raw: str, fragment: str) -> int | None:
    for number, line in enumerate(raw.splitlines(), start=1):
        if fragment[:40] in line:
            return number
    return None


def _standard_zones(calendar: Any, source: str, where: str, read: IcalRead) -> Any:
    """Apply X-WR-TIMEZONE (Google and Apple exports) so floating and UTC times get the zone."""
    try:
        return x_wr_timezone.to_standard(calendar)
    except Exception as exc:  # an unknown X-WR-TIMEZONE must not lose the whole feed
        zone = calendar.get("X-WR-TIMEZONE")
        read.problems.append(
            ItemProblem(
                item=f"{source} calendar {where}",
                error=f"X-WR-TIMEZONE {str(zone)!r} is unusable ({exc}); use an IANA zone name",
            )
        )
        return calendar


def _recurring_uids(calendar: Any) -> set[str]:
    return {
        str(c.get("UID"))
        for c in calendar.walk("VEVENT")
        if any(name in c for name in RECURRENCE_PROPERTIES)
    }


def _occurrences(
    calendar: Any, window: Window, source: str, where: str, read: IcalRead
) -> list[Any]:
    """Occurrences inside the window; a series that cannot be expanded is a problem alone."""
    try:
        return list(recurring_ical_events.of(calendar).between(window.start, window.end))
    except Exception:  # expand series one by one below, to name the one that fails
        return list(_occurrences_by_series(calendar, window, source, where, read))


def _occurrences_by_series(
    calendar: Any, window: Window, source: str, where: str, read: IcalRead
) -> Iterator[Any]:
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    for uid, series in _series(calendar.walk("VEVENT")).items():
        single = icalendar.Calendar()
        for component in (*zones, *series):
            single.add_component(component)
        try:
            found = list(recurring_ical_events.of(single).between(window.start, window.end))
        except Exception as exc:
            item = f"event {uid} in {source} calendar {where}"
            error = f"its recurrence cannot be expanded ({exc}); fix its RRULE, RDATE or EXDATE"
            read.problems.append(ItemProblem(item=item, error=error))
            continue
        yield from found


def _series(components: Iterable[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for component in components:
        grouped.setdefault(str(component.get("UID")), []).append(component)
    return grouped
