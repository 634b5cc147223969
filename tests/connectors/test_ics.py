"""ICS feeds from files and from a local HTTP server, read through IcsCalendarSource."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from connectors.ical_json import read_ical, vevent_to_launch_event
from connectors.ics import IcsCalendarSource, IcsFeed
from models.calendar_ids import calendar_id_of
from models.dates import Window, event_day, event_last_day
from models.errors import ConnectorError
from models.event import EventStatus, LaunchEvent
from tests.fixtures.calendars import NO_WAIT, WINDOW, IcsServer, vcalendar, vevent

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
CUSTOM_ZONE = """BEGIN:VTIMEZONE\r
TZID:Launch HQ Time\r
BEGIN:STANDARD\r
DTSTART:19700101T000000\r
TZOFFSETFROM:+0530\r
TZOFFSETTO:+0530\r
TZNAME:LHT\r
END:STANDARD\r
END:VTIMEZONE"""


def read(text: str, window: Window = WINDOW) -> dict[str, LaunchEvent]:
    """The events of one feed text, by id (the feed must have no problems)."""
    result = read_ical(text, source="ics", calendar_id="feed", window=window)
    assert result.problems == []
    return {event.id: event for event in result.events}


def feed_file(tmp_path: Path, text: str, name: str = "marketing.ics") -> IcsFeed:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return IcsFeed(id=name, location=str(path))


def test_a_timed_event_carries_title_links_organizer_and_url() -> None:
    text = vcalendar(
        vevent(
            "blog-1",
            "DTSTART:20260301T170000Z",
            "DTEND:20260301T180000Z",
            "SUMMARY:PROJ 2.4 blog post",
            "DESCRIPTION:Announce [PROJ-7]",
            "STATUS:TENTATIVE",
            "X-JIRA-VERSION-ID:10042",
            "X-JIRA-ISSUE-KEY:PROJ-7",
            "X-LAUNCH-TYPE:blog",
            "ORGANIZER;CN=PM:mailto:pm@example.com",
            "URL:https://cal.example.com/blog-1",
            "LAST-MODIFIED:20260201T090000Z",
        )
    )
    event = read(text)["blog-1"]
    assert event.start == dt.datetime(2026, 3, 1, 17, tzinfo=dt.UTC)
    assert event.end == dt.datetime(2026, 3, 1, 18, tzinfo=dt.UTC)
    assert (event.source, event.calendar_id, event.title) == ("ics", "feed", "PROJ 2.4 blog post")
    assert event.description == "Announce [PROJ-7]"
    assert event.status is EventStatus.TENTATIVE
    assert event.properties == {
        "jiraVersionId": "10042",
        "jiraIssueKey": "PROJ-7",
        "launchType": "blog",
    }
    assert event.organizer == "pm@example.com"
    assert event.url == "https://cal.example.com/blog-1"
    assert event.updated == dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC)


def test_an_all_day_event_ends_the_next_day_exclusive() -> None:
    text = vcalendar(
        vevent("webinar", "DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260311"),
        vevent("no-end", "DTSTART;VALUE=DATE:20260312"),
    )
    events = read(text)
    assert (events["webinar"].start, events["webinar"].end) == (
        dt.date(2026, 3, 10),
        dt.date(2026, 3, 11),
    )
    assert events["webinar"].all_day
    assert event_last_day(events["webinar"], LA) == dt.date(2026, 3, 10)
    assert events["no-end"].end == dt.date(2026, 3, 13)  # RFC 5545: one day without DTEND


def test_a_multi_day_event_covers_each_day() -> None:
    text = vcalendar(
        vevent("summit", "DTSTART;VALUE=DATE:20260420", "DTEND;VALUE=DATE:20260423"),
        vevent("hackathon", "DTSTART:20260501T160000Z", "DURATION:P2DT2H"),
    )
    events = read(text)
    assert event_day(events["summit"], LA) == dt.date(2026, 4, 20)
    assert event_last_day(events["summit"], LA) == dt.date(2026, 4, 22)
    assert events["hackathon"].end == dt.datetime(2026, 5, 3, 18, tzinfo=dt.UTC)


def test_a_recurring_event_expands_inside_the_window_with_stable_ids() -> None:
    text = vcalendar(
        vevent(
            "standup",
            "DTSTART;TZID=Europe/Berlin:20260105T090000",
            "DTEND;TZID=Europe/Berlin:20260105T093000",
            "RRULE:FREQ=WEEKLY;COUNT=4",
            "EXDATE;TZID=Europe/Berlin:20260112T090000",
            "SUMMARY:Launch sync",
        ),
        vevent(
            "standup",
            "RECURRENCE-ID;TZID=Europe/Berlin:20260119T090000",
            "DTSTART;TZID=Europe/Berlin:20260120T140000",
            "DTEND;TZID=Europe/Berlin:20260120T143000",
            "SUMMARY:Launch sync (moved)",
        ),
    )
    events = read(text)
    assert sorted(events) == [
        "standup/20260105T080000Z",
        "standup/20260119T080000Z",
        "standup/20260126T080000Z",
    ]
    moved = events["standup/20260119T080000Z"]
    assert moved.start == dt.datetime(2026, 1, 20, 14, tzinfo=BERLIN)
    assert moved.title == "Launch sync (moved)"
    assert read(text).keys() == events.keys()  # the same ids on every read
    narrow = read(text, Window(dt.date(2026, 1, 18), dt.date(2026, 1, 25)))
    assert list(narrow) == ["standup/20260119T080000Z"]


def test_a_cancelled_event_is_not_live() -> None:
    text = vcalendar(vevent("gone", "DTSTART;VALUE=DATE:20260301", "STATUS:CANCELLED"))
    assert not read(text)["gone"].live


def test_a_custom_vtimezone_puts_a_late_event_on_its_own_day() -> None:
    text = vcalendar(
        CUSTOM_ZONE,
        vevent("hq", "DTSTART;TZID=Launch HQ Time:20260301T083000", "SUMMARY:HQ launch"),
    )
    event = read(text)["hq"]
    assert offset(event) == dt.timedelta(hours=5, minutes=30)
    # 08:30 at +05:30 is 03:00 UTC, still the previous evening in Los Angeles.
    assert event_day(event, LA) == dt.date(2026, 2, 28)


def test_a_windows_zone_name_is_read_as_its_iana_zone() -> None:
    text = vcalendar(
        vevent(
            "evening",
            "DTSTART;TZID=Pacific Standard Time:20260301T220000",
            "DTEND;TZID=Pacific Standard Time:20260301T230000",
        )
    )
    event = read(text)["evening"]
    assert event.timezone == "America/Los_Angeles"
    assert event_day(event, LA) == dt.date(2026, 3, 1)
    assert event_day(event, BERLIN) == dt.date(2026, 3, 2)  # 22:00 PST is 07:00 in Berlin


def test_floating_times_stay_floating_unless_the_feed_names_a_zone() -> None:
    floating = vevent("float", "DTSTART:20260301T230000")
    assert read(vcalendar(floating))["float"].start == dt.datetime(2026, 3, 1, 23)
    google_export = vcalendar(floating, header=("X-WR-TIMEZONE:Europe/Berlin",))
    event = read(google_export)["float"]
    assert event.start == dt.datetime(2026, 3, 1, 23, tzinfo=BERLIN)
    assert event_day(event, LA) == dt.date(2026, 3, 1)


def test_a_broken_line_names_the_event_and_line_and_the_others_still_read(tmp_path: Path) -> None:
    text = vcalendar(
        vevent("good", "DTSTART;VALUE=DATE:20260301"),
        vevent("broken", "DTSTART;VALUE=DATE:20260302", "THIS IS NOT A CONTENT LINE"),
    )
    batch = IcsCalendarSource([feed_file(tmp_path, text)], window=WINDOW).events()
    assert [event.id for event in batch.items] == ["good"]
    (problem,) = batch.problems
    broken_line = text.split("\r\n").index("THIS IS NOT A CONTENT LINE") + 1
    assert problem.item == f"event broken in ics calendar marketing.ics line {broken_line}"
    assert "'THIS IS NOT A CONTENT LINE'" in problem.error and "remove the line" in problem.error


def test_an_event_without_a_start_is_a_problem_and_the_others_still_read() -> None:
    text = vcalendar(
        vevent("no-start", "SUMMARY:Webinar"),
        vevent("ok", "DTSTART;VALUE=DATE:20260301"),
        vevent("backwards", "DTSTART;VALUE=DATE:20260305", "DTEND;VALUE=DATE:20260301"),
    )
    result = read_ical(text, source="ics", calendar_id="feed", window=WINDOW)
    assert [event.id for event in result.events] == ["ok"]
    problems = {problem.item: problem.error for problem in result.problems}
    assert "add a DTSTART line" in problems["event no-start in ics calendar feed"]
    assert "fix its DTSTART and DTEND" in problems["event backwards in ics calendar feed"]


def test_the_pure_translator_takes_one_vevent() -> None:
    component = icalendar.Event.from_ical(
        vevent("solo", "DTSTART;VALUE=DATE:20260301", "SUMMARY:Solo")
    )
    event = vevent_to_launch_event(component, source="ics", calendar_id="c")
    assert (event.id, event.start, event.title) == ("solo", dt.date(2026, 3, 1), "Solo")


def test_feeds_are_read_from_files_and_http_each_under_its_own_id(
    tmp_path: Path, ics_server: IcsServer
) -> None:
    ics_server.feeds["team/launches.ics"] = vcalendar(
        vevent("remote", "DTSTART;VALUE=DATE:20260401")
    ).encode()
    local = feed_file(tmp_path, vcalendar(vevent("local", "DTSTART;VALUE=DATE:20260402")))
    remote = IcsFeed(id="launches", location=ics_server.url("team/launches.ics"))
    batch = IcsCalendarSource([local, remote], window=WINDOW).events()
    assert {(e.calendar_id, e.id) for e in batch.items} == {
        ("marketing.ics", "local"),
        ("launches", "remote"),
    }
    assert batch.complete and batch.problems == ()


def test_a_feed_answering_503_is_retried(ics_server: IcsServer) -> None:
    ics_server.feeds["flaky.ics"] = vcalendar(vevent("x", "DTSTART;VALUE=DATE:20260401")).encode()
    ics_server.failures["flaky.ics"] = [503, 429]
    feed = IcsFeed.of(ics_server.url("flaky.ics"))
    source = IcsCalendarSource([feed], window=WINDOW, policy=NO_WAIT)
    assert [event.id for event in source.events().items] == ["x"]
    assert ics_server.hits["flaky.ics"] == 3


def test_a_missing_feed_is_unread_and_named_without_its_token_while_the_others_read(
    tmp_path: Path, ics_server: IcsServer
) -> None:
    ics_server.feeds["team/launches.ics"] = vcalendar(
        vevent("remote", "DTSTART;VALUE=DATE:20260401")
    ).encode()
    good = IcsFeed.of(ics_server.url("team/launches.ics"))
    private = IcsFeed.of(ics_server.url("calendar/ical/private-k3y5ecret/basic.ics"))
    gone_file = IcsFeed.of(str(tmp_path / "absent.ics"))
    source = IcsCalendarSource([private, good, gone_file], window=WINDOW, policy=NO_WAIT)
    batch = source.events()
    assert [(e.calendar_id, e.id) for e in batch.items] == [(good.id, "remote")]
    assert batch.complete and batch.unread == (private.id, gone_file.id)
    remote_problem, file_problem = batch.problems
    host = ics_server.base.partition("://")[2]
    assert remote_problem.item.startswith(f"calendar http://{host}/…/basic.ics#")
    assert remote_problem.item == f"calendar {private.id}"
    assert "status 404" in remote_problem.error and "fix the URL" in remote_problem.error
    assert "k3y5ecret" not in remote_problem.model_dump_json() + private.id
    assert ics_server.hits["calendar/ical/private-k3y5ecret/basic.ics"] == 1  # 404: no retry
    assert file_problem.item == f"calendar {gone_file.id}"
    assert "no such file" in file_problem.error and "fix the path" in file_problem.error


def test_an_unreadable_feed_fails_the_read_in_one_line(
    tmp_path: Path, ics_server: IcsServer
) -> None:
    ics_server.failures["down.ics"] = [503, 503, 503]
    down = IcsFeed("down", ics_server.url("down.ics"))
    with pytest.raises(ConnectorError, match=r"^ics GET down failed \(last status 503\)"):
        IcsCalendarSource([down], policy=NO_WAIT).events()
    assert ics_server.hits["down.ics"] == 3
    html = feed_file(tmp_path, "<html>login page</html>", "page.ics")
    with pytest.raises(ConnectorError, match="not an iCalendar feed") as caught:
        IcsCalendarSource([html]).events()
    assert "\n" not in str(caught.value)


LAUNCH_PLAN = vcalendar(
    vevent(  # every Monday 08:30 in Kathmandu (+05:45): still Sunday evening in Los Angeles
        "review",
        "DTSTART;TZID=Asia/Kathmandu:20260302T083000",
        "DTEND;TZID=Asia/Kathmandu:20260302T093000",
        "RRULE:FREQ=WEEKLY;COUNT=3",
        "SUMMARY:Launch review",
    ),
    vevent(
        "summit",
        "DTSTART;VALUE=DATE:20260420",
        "DTEND;VALUE=DATE:20260423",
        "SUMMARY:Launch summit",
    ),
    vevent("chatham", "DTSTART;TZID=Pacific/Chatham:20260915T090000", "SUMMARY:Chatham launch"),
)


def offset(event: LaunchEvent) -> dt.timedelta | None:
    """The UTC offset of a timed event's start."""
    assert isinstance(event.start, dt.datetime)
    return event.start.utcoffset()


@pytest.fixture(params=["file", "http"])
def launch_plan_feed(request: pytest.FixtureRequest, tmp_path: Path) -> IcsFeed:
    """The launch plan feed, from a file or from the local HTTP server."""
    if request.param == "file":
        return feed_file(tmp_path, LAUNCH_PLAN)
    server: IcsServer = request.getfixturevalue("ics_server")
    server.feeds["plan.ics"] = LAUNCH_PLAN.encode()
    return IcsFeed(id="marketing.ics", location=server.url("plan.ics"))


def test_a_feed_shows_recurring_multi_day_and_odd_zone_events_on_the_days_a_user_sees(
    launch_plan_feed: IcsFeed,
) -> None:
    batch = IcsCalendarSource([launch_plan_feed], window=WINDOW, policy=NO_WAIT).events()
    assert batch.complete and batch.problems == ()
    assert {e.calendar_id for e in batch.items} == {"marketing.ics"}
    by_title: dict[str, list[LaunchEvent]] = {}
    for event in sorted(batch.items, key=lambda e: e.start.isoformat()):
        by_title.setdefault(event.title, []).append(event)
    reviews = by_title["Launch review"]
    # Los Angeles moves to summer time on 8 March; the review stays Sunday evening there.
    assert [event_day(e, LA) for e in reviews] == [dt.date(2026, 3, d) for d in (1, 8, 15)]
    assert [offset(e) for e in reviews] == [dt.timedelta(hours=5, minutes=45)] * 3
    assert len({e.id for e in reviews}) == 3
    (summit,) = by_title["Launch summit"]
    assert summit.all_day and (event_day(summit, LA), event_last_day(summit, LA)) == (
        dt.date(2026, 4, 20),
        dt.date(2026, 4, 22),  # DTEND of an all-day event is exclusive
    )
    (chatham,) = by_title["Chatham launch"]
    assert offset(chatham) == dt.timedelta(hours=12, minutes=45)
    # 09:00 on 15 September in the Chatham Islands is the 14th's afternoon in Los Angeles.
    assert event_day(chatham, LA) == dt.date(2026, 9, 14)
    assert event_day(chatham, ZoneInfo("Pacific/Chatham")) == dt.date(2026, 9, 15)


def test_a_feed_address_becomes_a_calendar_id_that_keeps_no_key_and_tells_feeds_apart() -> None:
    one = calendar_id_of("https://calendar.google.com/calendar/ical/a%40x/private-k3y/basic.ics")
    two = calendar_id_of("https://calendar.google.com/calendar/ical/b%40x/private-k3y/basic.ics")
    assert one.startswith("https://calendar.google.com/…/basic.ics#") and "k3y" not in one
    assert one != two and one == calendar_id_of(
        "https://calendar.google.com/calendar/ical/a%40x/private-k3y/basic.ics"
    )
    tokened = calendar_id_of("webcal://bot:pw@feeds.example.com/team/s3cret?token=t0k")
    assert tokened.startswith("webcal://feeds.example.com/…/#")
    assert not any(k in tokened for k in ("s3cret", "t0k", "pw", "bot"))
    assert calendar_id_of("/srv/launches.ics") == "/srv/launches.ics"  # a path is no secret
    assert calendar_id_of("marketing@example.com") == "marketing@example.com"
