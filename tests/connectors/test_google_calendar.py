"""GoogleCalendarSource against the Calendar v3 emulator over a real socket."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.google_auth import (
    READ_SCOPE,
    WRITE_SCOPE,
    GoogleCalendarSettings,
    load_credentials,
)
from models.dates import Window
from models.errors import ConfigError, ConnectorError
from models.event import EventStatus
from tests.fixtures.google import CALENDAR, NO_WAIT, StartCalendar, google_event, many_events
from tests.fixtures.receivers import HttpReceiver

OTHER = "events@example.com"
PST = dt.timezone(dt.timedelta(hours=-8))


def test_a_full_read_of_10000_events_takes_ceil_n_over_2500_requests(
    google_sandbox: StartCalendar,
) -> None:
    running = google_sandbox({CALENDAR: many_events(10_000)})
    batch = running.source().events()
    assert batch.complete and len(batch.items) == 10_000 and not batch.problems
    assert len(running.requests()) == 4
    assert set(batch.cursor) == {CALENDAR}


def test_an_incremental_read_has_inserts_moves_and_deletions(
    google_sandbox: StartCalendar,
) -> None:
    running = google_sandbox({CALENDAR: many_events(50), OTHER: many_events(3)})
    source = running.source([CALENDAR, OTHER])
    first = source.events()
    sandbox = running.sandbox
    sandbox.insert_event(CALENDAR, google_event("added", dt.date(2026, 10, 1)))
    sandbox.move_event(CALENDAR, "ev00007", dt.date(2026, 12, 24))
    sandbox.cancel_event(OTHER, "ev00001")
    running.reset_requests()
    delta = source.events(first.cursor)
    assert not delta.complete and len(running.requests()) == 2  # one per calendar
    by_ref = {event.ref: event for event in delta.items}
    assert set(by_ref) == {f"{CALENDAR}/added", f"{CALENDAR}/ev00007", f"{OTHER}/ev00001"}
    assert by_ref[f"{CALENDAR}/ev00007"].start == dt.date(2026, 12, 24)
    assert by_ref[f"{OTHER}/ev00001"].status is EventStatus.CANCELLED
    assert source.events(delta.cursor).items == ()


def test_a_stale_token_means_a_clean_full_read(
    google_sandbox: StartCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    running = google_sandbox({CALENDAR: many_events(20)})
    source = running.source()
    cursor = source.events().cursor
    running.sandbox.cancel_event(CALENDAR, "ev00003")
    running.sandbox.expire_sync_tokens(CALENDAR)
    with caplog.at_level(logging.INFO, "launchsync.google_calendar"):
        batch = source.events(cursor)
    assert batch.complete and len(batch.items) == 19
    assert all(event.live for event in batch.items)
    assert batch.cursor[CALENDAR] != cursor[CALENDAR]
    assert "expired" in caplog.text and CALENDAR in caplog.text
    assert source.events(batch.cursor).items == ()


def test_a_calendar_without_a_token_yet_is_read_in_full(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(2), OTHER: many_events(1)})
    cursor = running.source().events().cursor
    batch = running.source([CALENDAR, OTHER]).events({CALENDAR: cursor[CALENDAR]})
    assert batch.complete and len(batch.items) == 3


def test_recurring_events_come_expanded(google_sandbox: StartCalendar) -> None:
    weekly = google_event("w", dt.date(2026, 4, 6), recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    running = google_sandbox({CALENDAR: [weekly]})
    starts = sorted(event.start for event in running.source().events().items)
    assert starts == [dt.date(2026, 4, 6), dt.date(2026, 4, 13), dt.date(2026, 4, 20)]


def test_a_window_limits_the_full_read(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(30)})
    window = Window(dt.date(2026, 1, 10), dt.date(2026, 1, 20))
    batch = running.source(window=window).events()
    # A day either side: those days' events may fall inside the window in another zone.
    assert sorted(e.start.day for e in batch.items) == list(range(9, 21))  # type: ignore[union-attr]


def test_transient_failures_are_retried(google_sandbox: StartCalendar) -> None:
    faults = [
        {"kind": "status", "status": 503, "path": "/events"},
        {"kind": "status", "status": 403, "path": "/events"},  # rateLimitExceeded
        {"kind": "status", "status": 429, "path": "/events", "retry_after": 0},
        {"kind": "malformed", "path": "/events"},
        {"kind": "drop", "path": "/events"},
    ]
    running = google_sandbox({CALENDAR: many_events(5)}, faults)
    source = running.source()
    source.policy = replace(source.policy or NO_WAIT, attempts=6)
    assert len(source.events().items) == 5
    assert len(running.requests()) == 6


def test_a_calendar_that_does_not_exist_is_a_problem_naming_it_and_the_others_still_read(
    google_sandbox: StartCalendar,
) -> None:
    running = google_sandbox({CALENDAR: many_events(3), OTHER: many_events(2)})
    batch = running.source(["nobody@example.com", CALENDAR, OTHER]).events()
    assert batch.complete and len(batch.items) == 5
    assert set(batch.cursor) == {CALENDAR, OTHER}
    assert batch.unread == ("nobody@example.com",)
    [problem] = batch.problems
    assert problem.item == "calendar nobody@example.com"
    assert "does not exist" in problem.error and "fix calendar.calendar_ids" in problem.error


def test_a_calendar_deleted_since_the_last_read_is_a_problem_in_a_delta_too(
    google_sandbox: StartCalendar,
) -> None:
    running = google_sandbox({CALENDAR: many_events(3)})
    cursor = running.source([CALENDAR]).events().cursor
    running.sandbox.cancel_event(CALENDAR, "ev00001")
    gone = {**cursor, "nobody@example.com": "a-token-from-before"}
    delta = running.source([CALENDAR, "nobody@example.com"]).events(gone)
    assert not delta.complete and [e.id for e in delta.items] == ["ev00001"]
    assert delta.unread == ("nobody@example.com",)
    assert [p.item for p in delta.problems] == ["calendar nobody@example.com"]


def test_an_event_without_a_start_is_a_problem_and_the_others_still_read(
    google_sandbox: StartCalendar,
) -> None:
    broken = {"id": "nostart", "summary": "Broken", "status": "confirmed"}
    running = google_sandbox({CALENDAR: [*many_events(3), broken]})
    batch = running.source().events()
    assert len(batch.items) == 3
    [problem] = batch.problems
    assert "nostart" in problem.item and "start" in problem.error


def test_write_back_moves_an_event_over_its_etag(google_sandbox: StartCalendar) -> None:
    timed = google_event("talk", dt.datetime(2026, 3, 5, 9, 30, tzinfo=PST))
    timed["start"]["timeZone"] = "America/Los_Angeles"
    running = google_sandbox({CALENDAR: [*many_events(1), timed]})
    source = running.source(write_back=True)
    source.events()
    assert source.move_event(CALENDAR, "ev00000", dt.date(2026, 2, 2)).applied
    assert running.sandbox.event(CALENDAR, "ev00000")["end"] == {"date": "2026-02-03"}
    assert source.move_event(CALENDAR, "talk", dt.date(2026, 3, 20)).applied
    moved = running.sandbox.event(CALENDAR, "talk")
    # 09:30 in Los Angeles on both sides of the DST change (-08:00 then -07:00).
    assert moved["start"]["dateTime"] == "2026-03-20T09:30:00-07:00"
    assert moved["end"]["dateTime"] == "2026-03-20T10:30:00-07:00"


def test_write_back_never_overwrites_a_newer_human_edit(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(2)})
    source = running.source(write_back=True)
    source.events()
    seen_etag = source.etags[(CALENDAR, "ev00000")]
    running.sandbox.move_event(CALENDAR, "ev00000", dt.date(2026, 6, 6))  # a person
    result = source.move_event(CALENDAR, "ev00000", dt.date(2026, 1, 15), seen_etag)
    assert not result.applied and "edited since" in result.message
    assert running.sandbox.event(CALENDAR, "ev00000")["start"] == {"date": "2026-06-06"}
    running.sandbox.edit_event(CALENDAR, "ev00001", summary="Renamed by a person")
    refused = source.mark_tentative(CALENDAR, "ev00001")  # the etag of the last read: 412
    assert not refused.applied
    assert running.sandbox.event(CALENDAR, "ev00001")["status"] == "confirmed"


def test_mark_tentative_and_write_back_off_by_default(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(1)})
    with pytest.raises(ConfigError, match="write_back"):
        reader = running.source()
        reader.events()
        reader.mark_tentative(CALENDAR, "ev00000")
    writer = running.source(write_back=True)
    writer.events()
    assert writer.mark_tentative(CALENDAR, "ev00000").applied
    assert running.sandbox.event(CALENDAR, "ev00000")["status"] == "tentative"


def test_a_refused_write_says_why_in_googles_words(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(1)}, access_roles={CALENDAR: "reader"})
    source = running.source(write_back=True)
    source.events()
    with pytest.raises(ConnectorError) as refused:
        source.mark_tentative(CALENDAR, "ev00000")
    line = str(refused.value)
    assert "last status 403" in line and "\n" not in line
    assert "(Google Calendar says: You need to have writer access to this calendar.)" in line
    assert running.sandbox.event(CALENDAR, "ev00000")["status"] == "confirmed"


def test_watch_and_stop_a_channel(
    google_sandbox: StartCalendar, http_receiver: HttpReceiver
) -> None:
    running = google_sandbox({CALENDAR: many_events(1)})
    source = running.source()
    channel = source.watch(CALENDAR, http_receiver.url + "/google", "tok", "chan-9")
    running.sandbox.move_event(CALENDAR, "ev00000", dt.date(2026, 4, 4))
    deadline = time.monotonic() + 5
    while len(http_receiver.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    states = [r.headers["x-goog-resource-state"] for r in http_receiver.requests]
    assert states == ["sync", "exists"]
    assert http_receiver.requests[1].headers["x-goog-channel-token"] == "tok"
    source.stop_channel("chan-9", channel["resourceId"])
    with pytest.raises(ConnectorError):
        source.stop_channel("chan-9", channel["resourceId"])


def test_a_sandbox_token_is_sent_when_given(google_sandbox: StartCalendar) -> None:
    from google.oauth2.credentials import Credentials

    running = google_sandbox({CALENDAR: many_events(1)}, access_token="t0k")
    source = running.source(credentials=Credentials(token="t0k"))
    assert len(source.events().items) == 1


def service_account_file(directory: Path) -> Path:
    """A syntactically valid service-account key (never used against Google)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "k",
        "private_key": pem,
        "client_email": "launchsync@p.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = directory / "sa.json"
    path.write_text(json.dumps(info))
    return path


def test_credentials_ask_for_the_narrowest_scope(tmp_path: Path) -> None:
    key = service_account_file(tmp_path)
    reading = load_credentials(GoogleCalendarSettings((CALENDAR,), credentials_file=key))
    writing = GoogleCalendarSettings((CALENDAR,), credentials_file=key, write_back=True)
    assert list(reading.scopes) == [READ_SCOPE]  # type: ignore[attr-defined]
    assert list(load_credentials(writing).scopes) == [WRITE_SCOPE]  # type: ignore[attr-defined]


def test_a_read_only_user_token_cannot_write_back(tmp_path: Path) -> None:
    token = tmp_path / "token.json"
    token.write_text(
        json.dumps(
            {"refresh_token": "r", "client_id": "c", "client_secret": "s",
             "scopes": ["https://www.googleapis.com/auth/calendar.readonly"]}
        )
    )  # fmt: skip
    assert load_credentials(GoogleCalendarSettings((CALENDAR,), token_file=token))
    with pytest.raises(ConfigError, match="not granted"):
        load_credentials(GoogleCalendarSettings((CALENDAR,), token_file=token, write_back=True))


def test_missing_credentials_are_a_one_line_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_credentials(GoogleCalendarSettings((CALENDAR,), credentials_file=tmp_path / "x"))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    with pytest.raises(ConfigError) as caught:
        load_credentials(GoogleCalendarSettings((CALENDAR,)))
    assert "\n" not in str(caught.value)
