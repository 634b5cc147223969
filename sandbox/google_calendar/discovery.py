"""The shipped discovery document (calendar.v3.json) as the emulator's parameter contract.

Query parameters are checked against the method's parameters in the document, so a request
the real API would refuse for an unknown or ill-typed parameter is refused here too.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import googleapiclient

from sandbox.google_calendar.errors import bad_request

DOCUMENT = Path(googleapiclient.__file__).parent / "discovery_cache/documents/calendar.v3.json"

# The methods the emulator serves: discovery method id -> (HTTP method, path template).
SERVED_METHODS: dict[str, tuple[str, str]] = {
    "calendar.events.list": ("GET", "calendars/{calendarId}/events"),
    "calendar.events.get": ("GET", "calendars/{calendarId}/events/{eventId}"),
    "calendar.events.insert": ("POST", "calendars/{calendarId}/events"),
    "calendar.events.patch": ("PATCH", "calendars/{calendarId}/events/{eventId}"),
    "calendar.events.delete": ("DELETE", "calendars/{calendarId}/events/{eventId}"),
    "calendar.events.watch": ("POST", "calendars/{calendarId}/events/watch"),
    "calendar.channels.stop": ("POST", "channels/stop"),
    "calendar.calendarList.get": ("GET", "users/me/calendarList/{calendarId}"),
}
# events.list's page size limit: not in the document, stated in the API reference.
MAX_PAGE_SIZE = 2500


@functools.cache
def document() -> dict[str, Any]:
    """The parsed calendar.v3.json shipped inside google-api-python-client."""
    parsed: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return parsed


@functools.cache
def method(method_id: str) -> dict[str, Any]:
    """A method's description by id (`calendar.events.list`)."""
    _, resource, name = method_id.split(".")
    found: dict[str, Any] = document()["resources"][resource]["methods"][name]
    return found


def query_parameters(method_id: str) -> dict[str, dict[str, Any]]:
    """Parameters a method takes in the query string (its own and the global ones)."""
    own = method(method_id).get("parameters", {})
    params = {k: v for k, v in own.items() if v.get("location") == "query"}
    return {**document()["parameters"], **params}


def check_query(method_id: str, items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The query string by name, or a 400 for what the real API refuses."""
    allowed = query_parameters(method_id)
    values: dict[str, list[str]] = {}
    for name, value in items:
        values.setdefault(name, []).append(value)
    for name, given in values.items():
        spec = allowed.get(name)
        if spec is None:
            raise bad_request(f"Unknown parameter: {name!r}", "badRequest")
        if len(given) > 1 and not spec.get("repeated"):
            raise bad_request(f"Parameter {name!r} given more than once", "badRequest")
        for value in given:
            _check_value(name, value, spec)
    return values


def _check_value(name: str, value: str, spec: dict[str, Any]) -> None:
    kind = spec.get("type")
    if kind == "boolean" and value not in ("true", "false"):
        raise bad_request(f"Invalid boolean value for {name}: {value!r}", "invalidBoolean")
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            raise bad_request(f"Invalid integer value for {name}: {value!r}") from None
        low, high = spec.get("minimum"), spec.get("maximum")
        if name == "maxResults":
            high = high or str(MAX_PAGE_SIZE)
        if (low is not None and number < int(low)) or (high is not None and number > int(high)):
            raise bad_request(
                f"Invalid value '{value}'. Values must be within the range: [{low}, {high}]"
            )
    if "enum" in spec and value not in spec["enum"]:
        raise bad_request(f"Invalid value for {name}: {value!r}")
