"""CalDAV through the caldav client against a real Radicale server."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from models.calendar_ids import calendar_id_of
from models.dates import event_day, event_last_day
from models.errors import ConnectorError
from models.event import EventStatus, LaunchEvent
from tests.fixtures.calendars import PASSWORD, USER, RadicaleServer, vcalendar, vevent

LA = ZoneInfo("America/Los_Angeles")
CUSTOM_ZONE = "\r\n".join(
    [
        "BEGIN:VTIMEZONE",
        "TZID:Launch HQ Time",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0530",
        "TZOFFSETTO:+0530",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
)


def add(calendar: Any, uid: str, *lines: str, zone: str = "") -> Any:
    """Store one event through the caldav client, as a calendar app would."""
    components = (zone, vevent(uid, *lines)) if zone else (vevent(uid, *lines),)
    return calendar.add_event(vcalendar(*components))


def by_id(events: tuple[LaunchEvent, ...]) -> dict[str, LaunchEvent]:
    return {event.id: event for event in events}


@pytest.fixture
def marketing(radicale: RadicaleServer) -> tuple[Any, str]:
    """A fresh calendar holding one event of each kind."""
    calendar, name = radicale.new_calendar()
    add(
        calendar,
        "blog",
        "DTSTART:20260301T170000Z",
        "DTEND:20260301T180000Z",
        "SUMMARY:Blog",
        "X-JIRA-VERSION-ID:10042",
        "X-JIRA-ISSUE-KEY:PROJ-7",
        "ORGANIZER:mailto:pm@example.com",
    )
    add(calendar, "webinar", "DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260311")
    add(calendar, "summit", "DTSTART;VALUE=DATE:20260420", "DTEND;VALUE=DATE:20260423")
    add(calendar, "weekly", "DTSTART;VALUE=DATE:20260302", "RRULE:FREQ=WEEKLY;COUNT=3")
    add(calendar, "dropped", "DTSTART;VALUE=DATE:20260305", "STATUS:CANCELLED")
    add(calendar, "hq", "DTSTART;TZID=Launch HQ Time:20260301T083000", zone=CUSTOM_ZONE)
    add(calendar, "pst", "DTSTART;TZID=Pacific Standard Time:20260301T220000")
    return calendar, name


def test_a_full_read_translates_every_kind_of_event(
    radicale: RadicaleServer, marketing: tuple[Any, str]
) -> None:
    _, name = marketing
    batch = radicale.source(name).events()
    events = by_id(batch.items)
    assert batch.complete and batch.problems == ()
    assert set(events) == {"blog", "webinar", "summit", "dropped", "hq", "pst"} | {
        "weekly/20260302",
        "weekly/20260309",
        "weekly/20260316",
    }
    blog = events["blog"]
    assert (blog.source, blog.calendar_id) == ("caldav", name)
    assert blog.start == dt.datetime(2026, 3, 1, 17, tzinfo=dt.UTC)
    assert blog.properties == {"jiraVersionId": "10042", "jiraIssueKey": "PROJ-7"}
    assert blog.organizer == "pm@example.com"
    assert events["webinar"].end == dt.date(2026, 3, 11)  # all-day: the end is exclusive
    assert event_last_day(events["summit"], LA) == dt.date(2026, 4, 22)
    assert events["dropped"].status is EventStatus.CANCELLED
    assert event_day(events["hq"], LA) == dt.date(2026, 2, 28)  # 08:30 +05:30 is LA's evening
    assert events["pst"].timezone == "America/Los_Angeles"


def test_server_side_expansion_gives_the_same_ids(
    radicale: RadicaleServer, marketing: tuple[Any, str]
) -> None:
    _, name = marketing
    client_side = by_id(radicale.source(name).events().items)
    server_side = by_id(radicale.source(name, server_expand=True).events().items)
    assert server_side.keys() == client_side.keys()
    assert server_side["weekly/20260309"].start == dt.date(2026, 3, 9)


def test_a_calendar_is_found_by_display_name_id_or_url(radicale: RadicaleServer) -> None:
    calendar, name = radicale.new_calendar()
    add(calendar, "one", "DTSTART;VALUE=DATE:20260301")
    for configured in (name.upper(), str(calendar.id), str(calendar.url)):
        (event,) = radicale.source(configured).events().items
        assert (event.calendar_id, event.id) == (calendar_id_of(configured), "one")


def test_a_calendar_named_by_a_url_with_its_password_keeps_it_out_of_ids_and_cursors(
    radicale: RadicaleServer,
) -> None:
    calendar, _ = radicale.new_calendar()
    add(calendar, "one", "DTSTART;VALUE=DATE:20260301")
    url = str(calendar.url).replace("://", f"://{USER}:{PASSWORD}@", 1)
    source = radicale.source(url)
    batch = source.events()
    (calendar_id,) = batch.cursor
    assert [(e.calendar_id, e.id) for e in batch.items] == [(calendar_id, "one")]
    assert PASSWORD not in calendar_id and calendar_id.startswith("http://127.0.0.1:")
    add(calendar, "two", "DTSTART;VALUE=DATE:20260302")
    changed = source.events(batch.cursor)  # the cursor, keyed by the id, still reads changes
    assert not changed.complete and [e.id for e in changed.items] == ["two"]


def test_an_unknown_calendar_is_a_one_line_problem_and_the_others_still_read(
    radicale: RadicaleServer,
) -> None:
    calendar, name = radicale.new_calendar("Launches")
    add(calendar, "one", "DTSTART;VALUE=DATE:20260301")
    batch = radicale.source("Marketting", name).events()
    assert [(e.calendar_id, e.id) for e in batch.items] == [(name, "one")]
    assert batch.unread == ("Marketting",) and set(batch.cursor) == {name}
    [problem] = batch.problems
    assert problem.item == "calendar Marketting"
    assert problem.error.startswith("not found on the CalDAV server http://127.0.0.1:")
    assert "which has: " in problem.error and "Launches" in problem.error
    assert problem.error.endswith("; fix calendar.calendar_ids")
    assert "\n" not in problem.error


def test_a_password_in_the_server_url_stays_out_of_the_unknown_calendar_problem(
    radicale: RadicaleServer,
) -> None:
    _, name = radicale.new_calendar()
    url = radicale.url.replace("://", f"://{USER}:{PASSWORD}@", 1)
    batch = radicale.source("Nope", name, url=url, username=None, password=None).events()
    [problem] = batch.problems
    assert PASSWORD not in problem.error and radicale.url.rstrip("/") in problem.error


def test_a_wrong_password_fails_in_one_line_without_the_password(radicale: RadicaleServer) -> None:
    _, name = radicale.new_calendar()
    with pytest.raises(ConnectorError, match=r"^caldav principal failed \(last status 401\)") as e:
        radicale.source(name, password=SecretStr("wrong-secret")).events()
    assert "wrong-secret" not in str(e.value) and e.value.__cause__ is None


def test_an_incremental_read_returns_adds_moves_and_deletions(radicale: RadicaleServer) -> None:
    calendar, name = radicale.new_calendar()
    add(calendar, "stays", "DTSTART;VALUE=DATE:20260301")
    add(calendar, "moves", "DTSTART;VALUE=DATE:20260302")
    doomed = add(calendar, "doomed", "DTSTART;VALUE=DATE:20260303")
    source = radicale.source(name)
    first = source.events()
    assert set(first.cursor) == {name}

    add(calendar, "new", "DTSTART;VALUE=DATE:20260304")
    moved = calendar.get_event_by_uid("moves")
    moved.data = vcalendar(vevent("moves", "DTSTART;VALUE=DATE:20260320"))
    moved.save()
    doomed.delete()

    delta = source.events(first.cursor)
    assert not delta.complete
    events = by_id(delta.items)
    assert set(events) == {"new", "moves", "doomed"}
    assert events["moves"].start == dt.date(2026, 3, 20)
    assert not events["doomed"].live
    assert delta.cursor[name] != first.cursor[name]

    quiet = source.events(delta.cursor)
    assert (quiet.items, quiet.complete, quiet.cursor) == ((), False, delta.cursor)


def test_a_changed_recurring_series_makes_it_a_full_read(radicale: RadicaleServer) -> None:
    calendar, name = radicale.new_calendar()
    add(calendar, "single", "DTSTART;VALUE=DATE:20260301")
    source = radicale.source(name)
    cursor = source.events().cursor
    add(calendar, "series", "DTSTART;VALUE=DATE:20260302", "RRULE:FREQ=DAILY;COUNT=2")
    batch = source.events(cursor)
    assert batch.complete
    assert set(by_id(batch.items)) == {"single", "series/20260302", "series/20260303"}


def test_a_stale_sync_token_makes_it_a_full_read(radicale: RadicaleServer) -> None:
    calendar, name = radicale.new_calendar()
    add(calendar, "single", "DTSTART;VALUE=DATE:20260301")
    stale = {name: "http://radicale.org/ns/sync/" + "0" * 64}
    batch = radicale.source(name).events(stale)
    assert batch.complete and [event.id for event in batch.items] == ["single"]
    assert batch.cursor[name] != stale[name]
