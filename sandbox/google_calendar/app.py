"""CalendarSandbox: the emulator app, its state, and the helpers tests use to change it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.seed import CALENDARS_FILE, read_seed_file, seed_file
from models.errors import SeedError
from sandbox.faults import FAULT_LIST, Fault, FaultInjector
from sandbox.google_calendar.errors import error_body
from sandbox.google_calendar.push import PushHub
from sandbox.google_calendar.routes import CalendarApi
from sandbox.google_calendar.store import ACCESS_ROLES, CalendarStore

SEED_FAULTS = "faults"  # the top-level key of calendars.json that holds faults, not events
SEED_ACCESS_ROLES = "accessRoles"  # the key mapping calendar ids to the caller's role


class CalendarSandbox:
    """A seedable Calendar API v3 emulator: serve `.app`; `.faults` injects and counts."""

    def __init__(
        self,
        calendars: Mapping[str, Sequence[Mapping[str, Any]]],
        faults: Sequence[Fault | Mapping[str, Any]] | None = None,
        *,
        access_token: str | None = None,
        max_token_changes: int | None = None,
        access_roles: Mapping[str, str] | None = None,
    ) -> None:
        self.store = CalendarStore(max_token_changes=max_token_changes)
        for calendar_id, events in calendars.items():
            self.store.add_calendar(calendar_id, events)
        for calendar_id, role in (access_roles or {}).items():
            self.store.calendar(calendar_id).access_role = role  # the caller's; default owner
        self.push = PushHub()
        self.store.subscribe(self.push.changed)
        api = CalendarApi(self.store, self.push, access_token)
        self.faults = FaultInjector(api.app(), error_body, _faults(faults or []))
        self.app = self.faults

    # --- what a person does in the Calendar UI ---------------------------------------

    def insert_event(self, calendar_id: str, resource: Mapping[str, Any]) -> dict[str, Any]:
        """Add an event (start and end required); returns it with id and etag."""
        return self.store.insert(calendar_id, resource)

    def move_event(
        self, calendar_id: str, event_id: str, start: dt.date | dt.datetime
    ) -> dict[str, Any]:
        """Move an event to a new start, keeping its length and kind (all-day or timed)."""
        current = self.store.get(calendar_id, event_id)
        return self.store.patch(calendar_id, event_id, moved(current, start))

    def edit_event(self, calendar_id: str, event_id: str, **fields: Any) -> dict[str, Any]:
        """Change any fields (patch semantics), e.g. `summary="New title"`."""
        return self.store.patch(calendar_id, event_id, fields)

    def cancel_event(self, calendar_id: str, event_id: str) -> None:
        """Delete an event (it stays, cancelled, for incremental syncs)."""
        self.store.delete(calendar_id, event_id)

    def event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        """The stored resource as events.get would answer."""
        return self.store.get(calendar_id, event_id)

    def expire_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Every sync token handed out so far answers 410 from now on."""
        self.store.expire_tokens(calendar_id)

    def request_count(self) -> int:
        """API requests answered so far (admin requests not counted)."""
        return len(self.faults.requests)


def moved(current: Mapping[str, Any], start: dt.date | dt.datetime) -> dict[str, Any]:
    """The patch body that moves `current` to `start`, keeping its length."""
    old_start, old_end = current["start"], current.get("end") or current["start"]
    if isinstance(start, dt.datetime):
        first = dt.datetime.fromisoformat(str(old_start["dateTime"]).replace("Z", "+00:00"))
        last = dt.datetime.fromisoformat(str(old_end["dateTime"]).replace("Z", "+00:00"))
        zone = {"timeZone": old_start["timeZone"]} if old_start.get("timeZone") else {}
        return {
            "start": {"dateTime": start.isoformat(), "date": None, **zone},
            "end": {"dateTime": (start + (last - first)).isoformat(), "date": None, **zone},
        }
    length = dt.date.fromisoformat(old_end["date"]) - dt.date.fromisoformat(old_start["date"])
    return {
        "start": {"date": start.isoformat(), "dateTime": None},
        "end": {"date": (start + length).isoformat(), "dateTime": None},
    }


def load_seed(
    path: Path | str, faults: Sequence[Fault | Mapping[str, Any]] | None = None
) -> CalendarSandbox:
    """A sandbox seeded from `calendars.json` (or a seed directory holding it).

    Its optional top-level `"faults"` list arms faults as `jira.json`'s does; `faults`
    given here are armed after them. Its optional `"accessRoles"` maps a calendar id to the
    caller's role there (`reader`, `writer`, ...; default `owner`).
    """
    data = read_seed_file(path, CALENDARS_FILE)
    where = seed_file(path, CALENDARS_FILE)
    if not isinstance(data, dict):
        raise SeedError(f"{where}: must map each calendar id to a list of event objects")
    calendars = dict(data)
    # Reserved without ambiguity: Google calendar ids are e-mail addresses or "primary".
    seeded = calendars.pop(SEED_FAULTS, [])
    if not isinstance(seeded, list):
        raise SeedError(f"{where}: 'faults' must be a list of faults; see sandbox/faults.py")
    roles = _access_roles(calendars.pop(SEED_ACCESS_ROLES, {}), calendars, where)
    if not all(
        isinstance(events, list) and all(isinstance(e, dict) for e in events)
        for events in calendars.values()
    ):
        raise SeedError(f"{where}: must map each calendar id to a list of event objects")
    return CalendarSandbox(calendars, [*seeded, *(faults or [])], access_roles=roles)


def _access_roles(given: Any, calendars: Mapping[str, Any], where: Path) -> dict[str, str]:
    """The seed's `accessRoles`, each a seeded calendar and one of Google's roles."""
    if not isinstance(given, dict):
        raise SeedError(f"{where}: 'accessRoles' must map calendar ids to access roles")
    for calendar_id, role in given.items():
        if calendar_id not in calendars:
            raise SeedError(f"{where}: accessRoles names {calendar_id!r}; seed that calendar")
        if role not in ACCESS_ROLES:
            raise SeedError(
                f"{where}: accessRoles of {calendar_id!r} is {role!r}; use one of"
                f" {', '.join(ACCESS_ROLES)}"
            )
    return dict(given)


def _faults(given: Sequence[Fault | Mapping[str, Any]]) -> list[Fault]:
    try:
        return FAULT_LIST.validate_python(
            # Not dict(f): a non-object in a seed's list must fail validation, not crash.
            [f.model_dump() if isinstance(f, Fault) else f for f in given]
        )
    except ValidationError as exc:
        detail = exc.errors()[0]["msg"]
        raise SeedError(f"calendars.json faults: {detail}; see sandbox/faults.py") from None
