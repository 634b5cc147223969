"""The ports: small protocols every adapter implements, and the batch a read returns.

Reads never raise for one bad item: they leave it out and report it in `Batch.problems`
(one line naming the item and the fix). A whole read that cannot happen raises
`models.errors.ConnectorError` (or `ConfigError` for a wrong project). A configured calendar
that does not exist is only a problem too, named in `Batch.unread`: the others still read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from models.event import LaunchEvent
from models.freshness import Channel, SourceHealth, WebhookActivity
from models.plan import Divergence, ItemProblem
from models.reconcile import KnownDivergence
from models.release import Release

T = TypeVar("T")


@dataclass(frozen=True)
class Batch(Generic[T]):
    """What one read returned.

    `cursor` maps each read unit (a project, a JQL, a calendar id) to the watermark or sync
    token to pass next time. `complete` is False for an incremental read: `items` are then
    only what changed since the cursor given (cancelled events stand for deletions).
    `unread` names the units (calendar ids) that could not be read this time, each with its
    problem in `problems`: their stored items stand, even beside a complete read.
    """

    items: tuple[T, ...]
    problems: tuple[ItemProblem, ...] = ()
    cursor: Mapping[str, str] = field(default_factory=dict)
    complete: bool = True
    unread: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteBack:
    """The outcome of one write-back: applied, or refused and why (one line)."""

    calendar_id: str
    event_id: str
    applied: bool
    message: str
    etag: str | None = None  # the event's etag after the change, when applied


@runtime_checkable
class CalendarWriter(Protocol):
    """A calendar launchsync may change (`calendar.write_back: true`), only over an etag."""

    def move_event(
        self, calendar_id: str, event_id: str, new_date: dt.date, etag: str | None = None
    ) -> WriteBack:
        """Move an event to `new_date`, keeping its time of day and length."""
        ...

    def mark_tentative(self, calendar_id: str, event_id: str, etag: str | None = None) -> WriteBack:
        """Mark an event tentative: its date is in doubt."""
        ...


class ReleaseSource(Protocol):
    """Releases from the engineering side (Jira versions and issues)."""

    def releases(self, cursor: Mapping[str, str] | None = None) -> Batch[Release]:
        """Every release (cursor None) or those changed since the cursor."""
        ...


class CalendarSource(Protocol):
    """Launch events from the marketing side (Google Calendar, CalDAV, ICS)."""

    def events(self, cursor: Mapping[str, str] | None = None) -> Batch[LaunchEvent]:
        """Every event (cursor None) or those changed since the cursor."""
        ...


@dataclass(frozen=True)
class TicketRef:
    """A ticket opened for a divergence."""

    key: str
    url: str
    created: bool


class TicketSink(Protocol):
    """Tickets for divergences: one per identity, found again by a marker on the ticket."""

    def open(self, divergence: Divergence) -> TicketRef:
        """The divergence's ticket, opened now or found again by its marker."""
        ...

    def comment(self, ticket: str, divergence: Divergence) -> bool:
        """Say on the ticket that the divergence changed; False if already said."""
        ...

    def resolve(self, ticket: str, identity: str) -> bool:
        """Close the ticket as aligned; False if it already was."""
        ...

    def find(self, identity: str) -> str | None:
        """The key of the open ticket marked with this identity, if any."""
        ...

    def url(self, ticket: str) -> str:
        """Where a person opens the ticket: alerts link it."""
        ...


@dataclass(frozen=True)
class Alert:
    """One message to the people who own a divergence (or to operators)."""

    key: str  # idempotency key: identity + fingerprint (+ digest day)
    recipients: tuple[str, ...]  # e-mail addresses or apprise URLs
    subject: str
    body: str  # markdown
    severity: str


class Notifier(Protocol):
    """Delivers alerts: e-mail, Slack, Microsoft Teams, generic webhooks."""

    def send(self, alert: Alert) -> None:
        """Deliver to every recipient; raise ConnectorError naming the failed channel."""
        ...


class StateStore(Protocol):
    """What launchsync remembers between runs (see connectors.state_store for the real one)."""

    def cursors(self, config_key: str) -> dict[str, str]: ...
    def save_cursors(self, config_key: str, values: Mapping[str, str]) -> None: ...
    def load_snapshot(self, config_key: str) -> tuple[list[Release], list[LaunchEvent]]: ...
    def apply_snapshot(
        self,
        config_key: str,
        releases: Iterable[Release],
        events: Iterable[LaunchEvent],
        *,
        complete: bool,
    ) -> None: ...
    def record_release_dates(
        self,
        config_key: str,
        releases: Iterable[Release],
        seen_at: dt.datetime,
        changes: Mapping[str, tuple[str | None, dt.datetime | None]] = ...,
    ) -> list[Any]: ...
    def slip_history(self, config_key: str, release_id: str | None = None) -> list[Any]: ...
    def known_divergences(self, config_key: str) -> dict[str, KnownDivergence]: ...
    def record_divergence(
        self, config_key: str, identity: str, fingerprint: str, ticket: str | None
    ) -> None: ...
    def forget_divergence(self, config_key: str, identity: str) -> None: ...
    def claim_alert(self, config_key: str, alert_key: str, recipients: Sequence[str]) -> bool: ...
    def confirm_alert(self, config_key: str, alert_key: str) -> None: ...
    def release_alert(self, config_key: str, alert_key: str) -> None: ...
    def unconfirmed_alerts(self, config_key: str) -> list[str]: ...
    def owe_alert(self, config_key: str, identity: str, alert: Alert) -> None: ...
    def owed_alerts(self, config_key: str) -> dict[str, Alert]: ...
    def settle_owed_alert(self, config_key: str, identity: str) -> None: ...
    def lock(
        self, config_key: str, owner: str, ttl: dt.timedelta, renew_every: float | None = None
    ) -> AbstractContextManager[bool]: ...
    def record_run(
        self,
        config_key: str,
        started: dt.datetime,
        finished: dt.datetime,
        status: str,
        summary: Mapping[str, Any],
    ) -> None: ...
    def last_success(self, config_key: str) -> dt.datetime | None: ...
    def record_read(
        self, config_key: str, source: str, *, error: str | None = None, status: int | None = None
    ) -> None: ...
    def source_health(self, config_key: str) -> list[SourceHealth]: ...
    def save_channel(self, config_key: str, channel: Channel) -> None: ...
    def channels(self, config_key: str) -> list[Channel]: ...
    def forget_channel(self, config_key: str, calendar_id: str) -> None: ...
    def record_webhook(self, config_key: str, source: str) -> None: ...
    def record_change(self, config_key: str, source: str, at: dt.datetime) -> None: ...
    def webhook_activity(self, config_key: str) -> list[WebhookActivity]: ...
