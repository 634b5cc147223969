"""The Calendar v3 emulator, driven by google-api-python-client over a real socket."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import httpx
import pytest
from googleapiclient.errors import HttpError

from models.errors import SeedError
from sandbox.google_calendar import load_seed
from sandbox.google_calendar.query import REFUSED_WITH_SYNC_TOKEN
from sandbox.server import ServedApp
from tests.fixtures.google import CALENDAR, StartCalendar, google_event, many_events
from tests.fixtures.receivers import HttpReceiver

REPO = Path(__file__).resolve().parents[2]


def reason(error: HttpError) -> str:
    """The `errors[0].reason` of a Google error body."""
    return str(json.loads(error.content)["error"]["errors"][0]["reason"])


def list_all(client: object, **params: object) -> tuple[list[dict], list[dict]]:
    """(items, pages) of a paged events.list."""
    events = client.events()  # type: ignore[attr-defined]
    request = events.list(calendarId=CALENDAR, **params)
    items, pages = [], []
    while request is not None:
        page = request.execute()
        pages.append(page)
        items.extend(page["items"])
        request = events.list_next(request, page)
    return items, pages


def test_the_client_pages_through_10000_events(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(10_000)})
    items, pages = list_all(running.client(), maxResults=2500)
    assert len({item["id"] for item in items}) == 10_000
    assert len(pages) == len(running.requests()) == 4
    assert all("nextPageToken" in p and "nextSyncToken" not in p for p in pages[:-1])
    assert "nextSyncToken" in pages[-1] and "nextPageToken" not in pages[-1]


def test_a_page_holds_250_events_unless_asked(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(300)})
    first = running.client().events().list(calendarId=CALENDAR).execute()
    assert len(first["items"]) == 250 and "nextPageToken" in first


def test_a_sync_token_returns_inserts_moves_and_deletions(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(5)})
    client, sandbox = running.client(), running.sandbox
    token = list_all(client)[1][-1]["nextSyncToken"]
    sandbox.insert_event(CALENDAR, google_event("new1", dt.date(2026, 7, 1)))
    sandbox.move_event(CALENDAR, "ev00001", dt.date(2026, 8, 1))
    sandbox.cancel_event(CALENDAR, "ev00002")
    items, pages = list_all(client, syncToken=token)
    by_id = {item["id"]: item for item in items}
    assert set(by_id) == {"new1", "ev00001", "ev00002"}
    assert by_id["ev00001"]["start"] == {"date": "2026-08-01"}
    assert by_id["ev00002"]["status"] == "cancelled" and "start" not in by_id["ev00002"]
    assert list_all(client, syncToken=pages[-1]["nextSyncToken"])[0] == []


def test_the_first_sync_leaves_out_deleted_events_unless_asked(
    google_sandbox: StartCalendar,
) -> None:
    running = google_sandbox({CALENDAR: many_events(3)})
    running.sandbox.cancel_event(CALENDAR, "ev00000")
    assert len(list_all(running.client())[0]) == 2
    assert len(list_all(running.client(), showDeleted=True)[0]) == 3


@pytest.mark.parametrize("name", REFUSED_WITH_SYNC_TOKEN)
def test_parameters_the_api_refuses_beside_a_sync_token(
    google_sandbox: StartCalendar, name: str
) -> None:
    running = google_sandbox({CALENDAR: many_events(1)})
    token = list_all(running.client())[1][-1]["nextSyncToken"]
    value = {"orderBy": "updated", "q": "x"}.get(name, "k=v")
    if name.startswith(("time", "updated")):
        value = "2026-01-01T00:00:00Z"
    response = httpx.get(
        f"{running.endpoint}calendars/{CALENDAR}/events",
        params={"syncToken": token, name: value},
    )
    assert response.status_code == 400, name
    assert response.json()["error"]["code"] == 400


def test_a_stale_token_answers_410_full_sync_required(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(2)})
    client = running.client()
    token = list_all(client)[1][-1]["nextSyncToken"]
    httpx.post(f"{running.served.url}/_google/expire-sync-tokens").raise_for_status()
    with pytest.raises(HttpError) as caught:
        client.events().list(calendarId=CALENDAR, syncToken=token).execute()
    assert caught.value.resp.status == 410 and reason(caught.value) == "fullSyncRequired"


def test_a_token_older_than_the_change_limit_is_stale(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(5)}, max_token_changes=2)
    client = running.client()
    token = list_all(client)[1][-1]["nextSyncToken"]
    running.sandbox.move_event(CALENDAR, "ev00000", dt.date(2026, 3, 3))
    running.sandbox.move_event(CALENDAR, "ev00001", dt.date(2026, 3, 3))
    assert len(list_all(client, syncToken=token)[0]) == 2
    running.sandbox.move_event(CALENDAR, "ev00002", dt.date(2026, 3, 3))
    with pytest.raises(HttpError) as caught:
        list_all(client, syncToken=token)
    assert caught.value.resp.status == 410


def test_single_events_expands_a_weekly_rule(google_sandbox: StartCalendar) -> None:
    weekly = google_event(
        "standup",
        dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=-8))),
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=4", "EXDATE;TZID=America/Los_Angeles:20260315T100000"],
    )
    weekly["start"]["timeZone"] = weekly["end"]["timeZone"] = "America/Los_Angeles"
    running = google_sandbox({CALENDAR: [weekly]})
    items = list_all(running.client(), singleEvents=True, orderBy="startTime")[0]
    assert [i["id"] for i in items] == [
        "standup_20260301T180000Z",
        "standup_20260308T170000Z",  # 10:00 in Los Angeles after the DST change
        "standup_20260322T170000Z",
    ]
    assert all(i["recurringEventId"] == "standup" and "recurrence" not in i for i in items)
    assert items[1]["originalStartTime"]["dateTime"].startswith("2026-03-08T10:00:00-07:00")
    assert [i["id"] for i in list_all(running.client())[0]] == ["standup"]


def test_filters_window_properties_text_and_updated(google_sandbox: StartCalendar) -> None:
    linked = google_event(
        "linked", dt.date(2026, 5, 1), "Atlas webinar",
        extendedProperties={"private": {"jiraVersionId": "100"}},
    )  # fmt: skip
    running = google_sandbox({CALENDAR: [linked, *many_events(3)]})
    client = running.client()
    window = list_all(client, timeMin="2026-01-02T00:00:00Z", timeMax="2026-01-03T00:00:00Z")
    assert [i["id"] for i in window[0]] == ["ev00001"]
    by_property = list_all(client, privateExtendedProperty="jiraVersionId=100")[0]
    assert [i["id"] for i in by_property] == ["linked"]
    assert [i["id"] for i in list_all(client, q="atlas WEBINAR")[0]] == ["linked"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert list_all(client, updatedMin=later.isoformat())[0] == []


def test_patch_with_a_stale_etag_is_refused_412(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(1)})
    events = running.client().events()
    before = events.get(calendarId=CALENDAR, eventId="ev00000").execute()
    request = events.patch(calendarId=CALENDAR, eventId="ev00000", body={"summary": "Mine"})
    request.headers["If-Match"] = before["etag"]
    after = request.execute()
    assert after["summary"] == "Mine" and after["etag"] != before["etag"]
    stale = events.patch(calendarId=CALENDAR, eventId="ev00000", body={"summary": "Stale"})
    stale.headers["If-Match"] = before["etag"]
    with pytest.raises(HttpError) as caught:
        stale.execute()
    assert caught.value.resp.status == 412 and reason(caught.value) == "conditionNotMet"
    assert events.get(calendarId=CALENDAR, eventId="ev00000").execute()["summary"] == "Mine"


def test_insert_and_delete_through_the_client(google_sandbox: StartCalendar) -> None:
    running = google_sandbox()
    events = running.client().events()
    body = google_event("x1", dt.date(2026, 2, 2))
    made = events.insert(calendarId=CALENDAR, body=body).execute()
    assert made["id"] == "x1" and made["etag"] and made["iCalUID"] == "x1@google.com"
    events.delete(calendarId=CALENDAR, eventId="x1").execute()
    assert events.get(calendarId=CALENDAR, eventId="x1").execute()["status"] == "cancelled"
    with pytest.raises(HttpError) as caught:
        events.insert(calendarId=CALENDAR, body={"summary": "no times"}).execute()
    assert caught.value.resp.status == 400


def test_an_unknown_calendar_is_404_not_found(google_sandbox: StartCalendar) -> None:
    running = google_sandbox()
    with pytest.raises(HttpError) as caught:
        running.client().events().list(calendarId="nobody@example.com").execute()
    assert caught.value.resp.status == 404 and reason(caught.value) == "notFound"


def test_injected_faults_speak_googles_error_shape(google_sandbox: StartCalendar) -> None:
    running = google_sandbox(faults=[{"kind": "status", "status": 403, "path": "/events"}])
    with pytest.raises(HttpError) as caught:
        running.client().events().list(calendarId=CALENDAR).execute()
    error = json.loads(caught.value.content)["error"]
    assert error["code"] == 403 and error["errors"][0]["reason"] == "rateLimitExceeded"
    assert error["errors"][0]["domain"] == "usageLimits" and error["status"]


def test_faults_in_the_seed_are_served_like_jiras(tmp_path: Path) -> None:
    seed = {
        CALENDAR: many_events(2),
        "faults": [{"kind": "status", "status": 503, "path": "/events", "times": 1}],
    }
    (tmp_path / "calendars.json").write_text(json.dumps(seed))
    sandbox = load_seed(tmp_path)
    assert list(sandbox.store.calendars) == [CALENDAR]  # "faults" is no calendar
    with ServedApp(sandbox.app) as served:
        url = f"{served.url}/calendar/v3/calendars/{CALENDAR}/events"
        failed, served_again = httpx.get(url), httpx.get(url)
    assert failed.status_code == 503 and failed.json()["error"]["errors"][0]["reason"] == (
        "backendError"
    )
    assert served_again.status_code == 200 and len(served_again.json()["items"]) == 2


def test_access_roles_in_the_seed_set_the_callers_role_per_calendar(tmp_path: Path) -> None:
    seed = {CALENDAR: [], "other@example.com": [], "accessRoles": {CALENDAR: "reader"}}
    (tmp_path / "calendars.json").write_text(json.dumps(seed))
    store = load_seed(tmp_path).store
    assert {c: s.access_role for c, s in store.calendars.items()} == {
        CALENDAR: "reader",
        "other@example.com": "owner",
    }
    seed["accessRoles"] = {CALENDAR: "boss"}
    (tmp_path / "calendars.json").write_text(json.dumps(seed))
    with pytest.raises(SeedError, match=r"accessRoles of .* is 'boss'; use one of .*reader"):
        load_seed(tmp_path)


def test_a_bad_seeded_fault_is_a_seed_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "calendars.json").write_text('{"faults": [{"kind": "explode"}]}')
    with pytest.raises(SeedError, match=r"^calendars\.json faults: .*see sandbox/faults\.py$"):
        load_seed(tmp_path)


def test_a_seed_token_must_be_presented(google_sandbox: StartCalendar) -> None:
    from google.oauth2.credentials import Credentials

    running = google_sandbox(access_token="sandbox-token")
    url = f"{running.endpoint}calendars/{CALENDAR}/events"
    refused = httpx.get(url, headers={"Authorization": "Bearer other"})
    assert refused.status_code == 401 and refused.json()["error"]["status"] == "UNAUTHENTICATED"
    client = running.client(Credentials(token="sandbox-token"))
    assert client.events().list(calendarId=CALENDAR).execute()["items"] == []


def wait_for(receiver: HttpReceiver, count: int) -> None:
    """Until the receiver has `count` requests (pushes are sent from a thread)."""
    deadline = time.monotonic() + 5
    while len(receiver.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(receiver.requests) >= count


def test_watch_pushes_sync_then_exists_with_googles_headers(
    google_sandbox: StartCalendar, http_receiver: HttpReceiver
) -> None:
    running = google_sandbox({CALENDAR: many_events(2)})
    body = {"id": "chan-1", "type": "web_hook", "address": http_receiver.url + "/hook",
            "token": "secret-token"}  # fmt: skip
    channel = running.client().events().watch(calendarId=CALENDAR, body=body).execute()
    assert channel["kind"] == "api#channel" and channel["resourceId"]
    wait_for(http_receiver, 1)
    running.sandbox.move_event(CALENDAR, "ev00000", dt.date(2026, 9, 9))
    wait_for(http_receiver, 2)
    sync, exists = http_receiver.requests[:2]
    assert (sync.method, sync.path) == ("POST", "/hook")
    assert sync.headers["x-goog-resource-state"] == "sync"
    assert exists.headers["x-goog-resource-state"] == "exists"
    assert [r.headers["x-goog-message-number"] for r in (sync, exists)] == ["1", "2"]
    for header, value in {
        "x-goog-channel-id": "chan-1",
        "x-goog-channel-token": "secret-token",
        "x-goog-resource-id": channel["resourceId"],
        "x-goog-resource-uri": channel["resourceUri"],
    }.items():
        assert exists.headers[header] == value
    assert exists.headers["x-goog-channel-expiration"].endswith("GMT")
    stop = {"id": "chan-1", "resourceId": channel["resourceId"]}
    running.client().channels().stop(body=stop).execute()
    running.sandbox.cancel_event(CALENDAR, "ev00001")
    running.sandbox.push.wait_idle()
    assert len(http_receiver.requests) == 2
    with pytest.raises(HttpError) as caught:
        running.client().channels().stop(body=stop).execute()
    assert caught.value.resp.status == 404


def test_load_seed_reads_the_example_seed_and_refuses_a_broken_one(tmp_path: Path) -> None:
    sandbox = load_seed(REPO / "examples" / "seed")
    assert sandbox.store.calendars
    (tmp_path / "calendars.json").write_text('{"c": {"not": "a list"}}')
    with pytest.raises(SeedError, match=r"calendars\.json"):
        load_seed(tmp_path)


def test_paging_skips_nothing_while_events_change(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: many_events(6)})
    events = running.client().events()
    request = events.list(calendarId=CALENDAR, maxResults=2)
    first = request.execute()
    running.sandbox.move_event(CALENDAR, "ev00000", dt.date(2026, 5, 5))  # already listed
    running.sandbox.move_event(CALENDAR, "ev00004", dt.date(2026, 5, 5))  # not yet listed
    seen = [item["id"] for item in first["items"]]
    page = first
    while (request := events.list_next(request, page)) is not None:
        page = request.execute()
        seen.extend(item["id"] for item in page["items"])
    assert sorted(seen) == [f"ev{i:05d}" for i in range(6)]  # each once, as at the start
    changed = list_all(running.client(), syncToken=page["nextSyncToken"])[0]
    assert {item["id"] for item in changed} == {"ev00000", "ev00004"}


def test_a_changed_series_comes_back_as_its_instances(google_sandbox: StartCalendar) -> None:
    weekly = google_event("w", dt.date(2026, 4, 6), recurrence=["RRULE:FREQ=WEEKLY;COUNT=2"])
    running = google_sandbox({CALENDAR: [weekly]})
    token = list_all(running.client(), singleEvents=True)[1][-1]["nextSyncToken"]
    running.sandbox.cancel_event(CALENDAR, "w")
    changed = list_all(running.client(), singleEvents=True, syncToken=token)[0]
    assert [(i["id"], i["status"]) for i in changed] == [
        ("w_20260406", "cancelled"),
        ("w_20260413", "cancelled"),
    ]


def test_an_event_links_to_its_page_on_the_emulator(google_sandbox: StartCalendar) -> None:
    running = google_sandbox({CALENDAR: [google_event("blog", dt.date(2026, 5, 1), "ATL blog")]})
    events = running.client().events()
    (listed,) = events.list(calendarId=CALENDAR).execute()["items"]
    inserted = events.insert(calendarId=CALENDAR, body=google_event("new", dt.date(2026, 5, 2)))
    links = [listed["htmlLink"], inserted.execute()["htmlLink"]]
    assert links[0] == events.get(calendarId=CALENDAR, eventId="blog").execute()["htmlLink"]
    assert all(link.startswith(f"{running.served.url}/calendar/event?eid=") for link in links)
    page = httpx.get(links[0])
    assert page.status_code == 200 and "ATL blog" in page.text and "2026-05-01" in page.text
