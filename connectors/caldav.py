"""CalDAV calendars (Nextcloud, Fastmail, iCloud, Radicale) as a CalendarSource.

A full read takes each calendar's sync token first and then searches the window, so a
change made in between shows up again next time rather than never. With a token for every
calendar the read is incremental (RFC 6578 sync-collection; `Batch.complete` False):
changed resources are translated, removed ones come back as cancelled events whose id is
the resource name, which CalDAV clients (caldav, Nextcloud, Apple, Thunderbird) set to the
UID. An expired token, or a changed recurring series (whose old occurrences a delta cannot
cancel), makes it a full read of every calendar. Every call goes through `retrying`.
A configured calendar the server lacks is a problem named in `Batch.unread`, not a failure.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import caldav
from caldav.lib import error as dav_error
from pydantic import BaseModel, ConfigDict, SecretStr

from connectors.base import Batch
from connectors.ical_json import RECURRENCE_PROPERTIES, IcalRead, read_ical
from connectors.retry import RetryPolicy, classify, retrying
from models.calendar_ids import calendar_id_of
from models.config import CalendarConfig
from models.dates import Window
from models.errors import ITEM_CHARS, PROBLEM_CHARS, ConfigError, one_line
from models.event import EventStatus, LaunchEvent
from models.plan import ItemProblem

SYSTEM = "caldav"
SOURCE = "caldav"
STALE_SYNC_PRECONDITION = "{DAV:}valid-sync-token"
T = TypeVar("T")
log = logging.getLogger("launchsync.caldav")


class CalDavSettings(BaseModel):
    """Where the calendars are and which to read (names, ids or URLs)."""

    model_config = ConfigDict(frozen=True)

    url: str
    username: str | None = None
    password: SecretStr | None = None
    calendars: tuple[str, ...]
    window: Window
    server_expand: bool = False  # servers expand to UTC and differ on overrides; caldav agrees

    @classmethod
    def from_config(cls, config: CalendarConfig, window: Window) -> CalDavSettings:
        """Settings from the `calendar:` section of the config (kind caldav)."""
        if not config.url:
            raise ConfigError("calendar.url is missing; set it to the CalDAV server's address")
        return cls(
            url=config.url,
            username=config.username,
            password=config.password,
            calendars=config.calendar_ids,
            window=window,
        )


class FullSyncRequired(Exception):
    """A delta cannot be trusted for this calendar; read everything again."""


class CalDavCalendarSource:
    """Launch events from the configured calendars of one CalDAV account."""

    def __init__(
        self,
        settings: CalDavSettings,
        *,
        policy: RetryPolicy | None = None,
        client: caldav.DAVClient | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy
        password = settings.password.get_secret_value() if settings.password else None
        self.client = client or caldav.DAVClient(
            url=settings.url, username=settings.username, password=password, timeout=30
        )
        self._found: dict[str, Any] | None = None
        self._missing: dict[str, ItemProblem] = {}  # configured calendars the server lacks

    def events(self, cursor: Mapping[str, str] | None = None) -> Batch[LaunchEvent]:
        """Every event in the window (no cursor), or what changed since the cursor's tokens."""
        names = [calendar_id_of(name) for name in self.settings.calendars]
        if cursor and all(cursor.get(name) for name in names):
            try:
                return self._read_changes({name: cursor[name] for name in names})
            except FullSyncRequired as exc:
                log.info("%s: %s; reading in full", SYSTEM, exc)
        return self._read_full()

    def _read_full(self) -> Batch[LaunchEvent]:
        read, tokens = IcalRead(), {}
        for name, calendar in self.calendars().items():
            token = self._call(f"sync-collection {name}", partial(_token, calendar))
            if token:
                tokens[name] = token
            for resource in self._search(name, calendar):
                read.extend(self._translate(name, resource))
        return self._batch(read, tokens, complete=True)

    def _read_changes(self, tokens: Mapping[str, str]) -> Batch[LaunchEvent]:
        read, next_tokens = IcalRead(), {}
        for name, calendar in self.calendars().items():
            changes = self._call(
                f"sync-collection {name}", partial(_changes, calendar, tokens[name], name)
            )
            next_tokens[name] = str(changes.sync_token)
            for resource in changes.objects:
                if resource.url.canonical() in changes.deleted_urls:
                    read.events.append(_deleted(name, resource.url))
                elif resource.data:
                    if any(f"\n{p}" in resource.data for p in RECURRENCE_PROPERTIES):
                        raise FullSyncRequired(f"a recurring event changed in {name}")
                    read.extend(self._translate(name, resource))
        return self._batch(read, next_tokens, complete=False)

    def _batch(
        self, read: IcalRead, tokens: dict[str, str], *, complete: bool
    ) -> Batch[LaunchEvent]:
        problems = (*read.problems, *self._missing.values())
        unread = tuple(self._missing)
        return Batch(tuple(read.events), problems, tokens, complete, unread=unread)

    def calendars(self) -> dict[str, Any]:
        """The configured calendars found, by calendar id; the others go to `_missing`.

        The id is the configured name, or for a URL (which may hold credentials) a safe
        name made from it: it is what events, cursors and problems carry.
        """
        # Listed again while one is missing, so a calendar created since is picked up.
        if self._found is None or self._missing:
            principal = self._call("principal", self.client.principal)
            available = self._call("calendars", lambda: _named_calendars(principal))
            self._found, self._missing = {}, {}
            for name in self.settings.calendars:
                calendar, calendar_id = _match(name, available), calendar_id_of(name)
                if calendar is None:
                    self._missing[calendar_id] = _not_found(
                        calendar_id, available, self.settings.url
                    )
                else:
                    self._found[calendar_id] = calendar
        return self._found

    def _search(self, name: str, calendar: Any) -> list[Any]:
        start, end = self.settings.window.instants()
        expand = self.settings.server_expand

        def search() -> list[Any]:
            return list(
                calendar.search(
                    start=start, end=end, event=True, expand=expand, server_expand=expand
                )
            )

        return self._call(f"search {name}", search)

    def _translate(self, name: str, resource: Any) -> IcalRead:
        label = f"{name} ({_resource_name(resource.url)})"
        try:
            return read_ical(
                resource.data,
                source=SOURCE,
                calendar_id=name,
                window=self.settings.window,
                label=label,
            )
        except ValueError as exc:
            read = IcalRead()
            read.problems.append(_unreadable(label, exc))
            return read

    def _call(self, call: str, fn: Callable[[], T]) -> T:
        return retrying(SYSTEM, call, fn, policy=self.policy)


def _named_calendars(principal: Any) -> list[tuple[Any, str]]:
    return [(c, str(c.get_display_name() or "")) for c in principal.get_calendars()]


def _match(name: str, available: list[tuple[Any, str]]) -> Any | None:
    """The calendar a configured entry means: its URL (a user and password in it aside),
    URL path, id, or display name."""
    wanted = (_without_userinfo(name) if "://" in name else name).rstrip("/")
    for calendar, _ in available:
        url = str(calendar.url).rstrip("/")
        if wanted in (url, urlsplit(url).path, str(calendar.id)):
            return calendar
    for calendar, display_name in available:
        if display_name.casefold() == name.casefold():
            return calendar
    return None


def _not_found(name: str, available: list[tuple[Any, str]], server: str) -> ItemProblem:
    """A configured calendar the server does not have, with the names it does have."""
    choices = ", ".join(sorted(d or str(c.id) for c, d in available)) or "none"
    return ItemProblem(
        item=one_line(f"calendar {name}", ITEM_CHARS),
        error=one_line(
            f"not found on the CalDAV server {_without_userinfo(server)}, which has: {choices};"
            " fix calendar.calendar_ids",
            PROBLEM_CHARS,
        ),
    )


def _without_userinfo(url: str) -> str:
    """The server URL fit for a message: a password written into it stays out."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host).geturl()


def _token(calendar: Any) -> str | None:
    """The calendar's current sync token, or None when the server has no sync-collection."""
    try:
        collection = calendar.get_objects_by_sync_token(load_objects=False, disable_fallback=True)
    except dav_error.DAVError as exc:
        failure = classify(exc)
        if failure is not None and failure.transient:
            raise
        return None  # such a server is read in full every time
    return str(collection.sync_token) if collection.sync_token else None


def _changes(calendar: Any, token: str, name: str) -> Any:
    """What changed since `token`; FullSyncRequired when the server will not say."""
    try:
        return calendar.get_objects_by_sync_token(
            sync_token=token, load_objects=True, disable_fallback=True
        )
    except dav_error.DAVError as exc:
        failure = classify(exc)
        if failure is not None and failure.transient:
            raise
        # An expired token is a 403 with DAV:valid-sync-token (RFC 6578 3.2), 412 on Xandikos.
        why = (
            "expired" if STALE_SYNC_PRECONDITION in exc.preconditions else f"refused ({exc.status})"
        )
        raise FullSyncRequired(f"the sync token of {name} was {why}") from None


def _resource_name(url: Any) -> str:
    return unquote(urlsplit(str(url)).path.rstrip("/").rsplit("/", 1)[-1])


def _deleted(name: str, url: Any) -> LaunchEvent:
    """A removed resource, as the cancelled event its name (the UID) stands for."""
    resource = _resource_name(url)
    uid = resource[: -len(".ics")] if resource.lower().endswith(".ics") else resource
    return LaunchEvent(
        source=SOURCE,
        calendar_id=name,
        id=uid,
        start=dt.date.min,  # a deletion carries no dates
        status=EventStatus.CANCELLED,
    )


def _unreadable(label: str, exc: Exception) -> ItemProblem:
    first = (str(exc).strip().splitlines() or ["unreadable"])[0][:200]
    return ItemProblem(
        item=f"resource {label} in {SOURCE} calendar",
        error=f"is not iCalendar ({first}); fix or delete it on the server",
    )
