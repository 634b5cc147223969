"""A hostile VEVENT in an ICS feed or CalDAV calendar is named and skipped; the good one
still reads, quickly, and the read never raises."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from connectors.ical_json import read_ical
from models.dates import Window
from tests.fuzz.strategies import FUZZ

TODAY = dt.date(2026, 11, 23)
WINDOW = Window.around(TODAY)
GOOD = (
    "BEGIN:VEVENT\r\nUID:good\r\nDTSTART;VALUE=DATE:20261201\r\nDTEND;VALUE=DATE:20261202\r\n"
    "SUMMARY:ATL 2.0 blog\r\nX-JIRA-VERSION-ID:100\r\nEND:VEVENT\r\n"
)
FIELDS = [
    "DTSTART",
    "DTEND",
    "DURATION",
    "RRULE",
    "RDATE",
    "EXDATE",
    "RECURRENCE-ID",
    "STATUS",
    "SUMMARY",
    "ORGANIZER",
    "LAST-MODIFIED",
    "X-JIRA-VERSION-ID",
]
PARAMS = ["", ";VALUE=DATE", ";VALUE=DATE-TIME", ";TZID=America/New_York", ";TZID=Nowhere/Land"]
VALUES = [
    "20261301",
    "20261201T250000",
    "2026-12-01",
    "00000000",
    "99991231T235959Z",
    "P-1D",
    "PT99999999H",
    "FREQ=SECONDLY",
    "FREQ=MINUTELY;INTERVAL=1",
    "FREQ=DAILY;COUNT=-1",
    "FREQ=DAILY;UNTIL=garbage",
    "FREQ=YEARLY;BYMONTH=13",
    "FREQ=WEEKLY;BYDAY=XX",
    "mailto:",
    "",
]
# One content line: no line breaks (they would end the line and start a new property).
line_text = st.text(st.characters(blacklist_characters="\r\n", codec="utf-8"), max_size=80)


def feed(*events: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\n"
        + "".join(events)
        + ("END:VCALENDAR\r\n")
    )


def hostile(field: str, params: str, value: str) -> str:
    start = "" if field == "DTSTART" else "DTSTART;VALUE=DATE:20261205\r\n"
    line = f"{field}{params}:{value}\r\n"
    return f"BEGIN:VEVENT\r\nUID:bad\r\n{start}SUMMARY:bad\r\n{line}END:VEVENT\r\n"


@FUZZ
@given(
    field=st.sampled_from(FIELDS),
    params=st.sampled_from(PARAMS),
    value=st.sampled_from(VALUES) | line_text,
)
@example(field="DURATION", params="", value="PT99999999H")  # was an OverflowError
@example(field="RRULE", params=";VALUE=DATE", value="99991231T235959Z")
def test_a_hostile_event_is_a_problem_and_the_good_one_still_reads(
    field: str, params: str, value: str
) -> None:
    read = read_ical(
        feed(GOOD, hostile(field, params, value)), source="ics", calendar_id="feed", window=WINDOW
    )
    assert "good" in {e.id for e in read.events}
    for problem in read.problems:
        assert "\n" not in problem.error and len(problem.error) <= 600, problem
        assert problem.item.startswith("event "), problem


@pytest.mark.parametrize("frequency", ["SECONDLY", "MINUTELY", "HOURLY"])
def test_a_sub_daily_series_is_refused_before_it_is_expanded(frequency: str) -> None:
    # FREQ=SECONDLY over the read window was 30 million occurrences: a hang, then no memory.
    storm = (
        "BEGIN:VEVENT\r\nUID:storm\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T100001Z\r\n"
        f"SUMMARY:standup\r\nRRULE:FREQ={frequency}\r\nEND:VEVENT\r\n"
    )
    read = read_ical(feed(GOOD, storm), source="ics", calendar_id="feed", window=WINDOW)
    assert [e.id for e in read.events] == ["good"]
    assert [(p.item, p.error.split(";")[0]) for p in read.problems] == [
        ("event storm in ics calendar feed", f"repeats more often than daily (FREQ={frequency})")
    ]
