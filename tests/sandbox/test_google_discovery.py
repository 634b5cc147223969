"""The emulator against the discovery document shipped in google-api-python-client:
what it serves exists there, what it answers fits its schemas, and what the real API
refuses it refuses too."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from sandbox.google_calendar.discovery import SERVED_METHODS, document, method
from sandbox.google_calendar.query import REFUSED_WITH_SYNC_TOKEN
from sandbox.google_calendar.routes import BASE
from tests.fixtures.google import CALENDAR, RunningCalendar, StartCalendar, google_event

# The events.list parameters the emulator acts on (the others are accepted and ignored).
HANDLED_LIST_PARAMETERS = {
    "maxResults", "pageToken", "syncToken", "singleEvents", "showDeleted", "orderBy",
    "timeMin", "timeMax", "updatedMin", "q", "privateExtendedProperty",
    "sharedExtendedProperty", "iCalUID", "eventTypes",
}  # fmt: skip


def test_every_served_method_is_in_the_document_with_its_verb_and_path() -> None:
    for method_id, (verb, path) in SERVED_METHODS.items():
        spec = method(method_id)
        assert (spec["httpMethod"], spec["path"]) == (verb, path), method_id


def test_every_route_of_the_app_is_a_served_method(google_sandbox: StartCalendar) -> None:
    running = google_sandbox()
    served = {(verb, path) for verb, path in SERVED_METHODS.values()}
    router = running.sandbox.faults.app
    for route in router.routes:  # type: ignore[attr-defined]
        assert isinstance(route, Route)
        if not route.path.startswith(BASE + "/"):
            continue  # the admin route and the catch-all 404
        path = route.path.removeprefix(BASE + "/")
        path = path.replace("{calendar_id}", "{calendarId}").replace("{event_id}", "{eventId}")
        for verb in route.methods or ():
            if verb != "HEAD":
                assert (verb, path) in served


def test_every_handled_parameter_is_an_events_list_parameter() -> None:
    parameters = method("calendar.events.list")["parameters"]
    assert set(parameters) >= HANDLED_LIST_PARAMETERS
    assert set(parameters) >= set(REFUSED_WITH_SYNC_TOKEN)


def assert_fits(value: Any, schema: dict[str, Any], where: str) -> None:
    """Every key of `value` is a property of `schema` (followed through $ref and items)."""
    schemas = document()["schemas"]
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    if isinstance(value, list):
        for i, item in enumerate(value):
            assert_fits(item, schema.get("items", {}), f"{where}[{i}]")
    elif isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            assert key in schema["properties"], f"{where}.{key} is not in the schema"
            assert_fits(item, schema["properties"][key], f"{where}.{key}")


@pytest.fixture
def seeded(google_sandbox: StartCalendar) -> RunningCalendar:
    linked = google_event(
        "linked", dt.date(2026, 5, 1), extendedProperties={"private": {"jiraVersionId": "1"}}
    )
    weekly = google_event("weekly", dt.date(2026, 5, 4), recurrence=["RRULE:FREQ=WEEKLY;COUNT=2"])
    running = google_sandbox({CALENDAR: [linked, weekly]})
    running.sandbox.cancel_event(CALENDAR, "linked")
    return running


def test_responses_fit_the_event_and_events_schemas(seeded: RunningCalendar) -> None:
    events = seeded.client().events()
    for params in ({}, {"singleEvents": True}, {"showDeleted": True}):
        page = events.list(calendarId=CALENDAR, **params).execute()
        assert_fits(page, {"$ref": "Events"}, f"events.list{params}")
    made = events.insert(calendarId=CALENDAR, body=google_event("n", dt.date(2026, 6, 1))).execute()
    assert_fits(made, {"$ref": "Event"}, "events.insert")
    got = events.get(calendarId=CALENDAR, eventId="weekly").execute()
    assert_fits(got, {"$ref": "Event"}, "events.get")
    patched = events.patch(calendarId=CALENDAR, eventId="n", body={"summary": "x"}).execute()
    assert_fits(patched, {"$ref": "Event"}, "events.patch")
    body = {"id": "c", "type": "web_hook", "address": "http://127.0.0.1:9/"}
    channel = events.watch(calendarId=CALENDAR, body=body).execute()
    assert_fits(channel, {"$ref": "Channel"}, "events.watch")
    entry = seeded.client().calendarList().get(calendarId=CALENDAR).execute()
    assert_fits(entry, {"$ref": "CalendarListEntry"}, "calendarList.get")
    assert (entry["id"], entry["accessRole"]) == (CALENDAR, "owner")


def test_a_reader_sees_its_role_and_is_refused_changes_as_google_refuses_them(
    google_sandbox: StartCalendar,
) -> None:
    event = google_event("a", dt.date(2026, 5, 1))
    running = google_sandbox({CALENDAR: [event]}, access_roles={CALENDAR: "reader"})
    client = running.client()
    assert client.calendarList().get(calendarId=CALENDAR).execute()["accessRole"] == "reader"
    assert client.events().list(calendarId=CALENDAR).execute()["accessRole"] == "reader"
    patch = httpx.patch(f"{running.endpoint}calendars/{CALENDAR}/events/a", json={"summary": "x"})
    assert patch.status_code == 403
    assert patch.json()["error"]["errors"][0] == {
        "domain": "calendar",
        "reason": "requiredAccessLevel",
        "message": "You need to have writer access to this calendar.",
    }
    unknown = httpx.get(f"{running.endpoint}users/me/calendarList/nobody@example.com")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["errors"][0]["reason"] == "notFound"


@pytest.mark.parametrize(
    "params",
    [
        {"colour": "blue"},  # not a parameter of events.list
        {"maxResults": "2501"},
        {"maxResults": "0"},
        {"singleEvents": "yes"},
        {"orderBy": "title"},
        {"orderBy": "startTime"},  # only with singleEvents=true
        {"timeMin": "2026-01-01T00:00:00"},  # no offset
        {"syncToken": "anything", "timeMin": "2026-01-01T00:00:00Z"},
        {"pageToken": "not-a-token"},
    ],
)
def test_requests_the_real_api_refuses_are_refused(
    seeded: RunningCalendar, params: dict[str, str]
) -> None:
    response = httpx.get(f"{seeded.endpoint}calendars/{CALENDAR}/events", params=params)
    assert response.status_code == 400, params
    error = response.json()["error"]
    assert error["code"] == 400 and error["errors"][0]["reason"] and error["message"]
