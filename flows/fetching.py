"""Read both sides, merge incremental reads into the stored snapshot, note slips."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol, TypeVar, runtime_checkable

from connectors.base import Batch
from flows.bootstrap import Runtime
from flows.freshness import webhook_sources
from models.errors import ConnectorError, LaunchsyncError
from models.event import LaunchEvent
from models.freshness import GOOGLE_WEBHOOKS, JIRA_WEBHOOKS, Blindness
from models.plan import ItemProblem
from models.release import Release

RELEASES, EVENTS = "releases", "events"
JIRA = "jira"  # the freshness name of the release side
T = TypeVar("T", Release, LaunchEvent)
Changes = Mapping[str, tuple[str | None, dt.datetime | None]]


@runtime_checkable
class ChangeHistory(Protocol):
    """A release source that can say who last changed each release's date, and when."""

    def date_changes(self, releases: list[Release]) -> Changes:
        """Release id -> (author, time) of the last change of its date."""
        ...


@dataclass(frozen=True)
class Fetched:
    """What a run knows after reading: full item sets, problems, and slips seen now.

    `failed` names the sides that could not be read this run: their items are the stored
    snapshot, so nothing from them may be taken as current.
    """

    releases: list[Release]
    events: list[LaunchEvent]
    problems: list[ItemProblem] = field(default_factory=list)
    slips: list[Any] = field(default_factory=list)
    failed: list[Blindness] = field(default_factory=list)


def fetch(runtime: Runtime, *, full: bool, persist: bool, now: dt.datetime) -> Fetched:
    """Read releases and events (changes only, unless full or first), merge, record.

    A side that fails (after the connector's retries) falls back to the stored snapshot
    and is reported in `failed`; the other side is still read and recorded.
    """
    store, key = runtime.store, runtime.config_key
    cursors: Mapping[str, str] = {} if full else store.cursors(key)
    mode = "changes" if cursors else "everything"
    runtime.progress(f"reading {mode} from Jira")
    release_batch, release_failure = _read(
        runtime, JIRA, lambda: runtime.sources.releases.releases(_side(cursors, RELEASES)), persist
    )
    calendar = calendar_source(runtime.config.calendar.kind)
    runtime.progress(f"reading {mode} from the {runtime.config.calendar.kind} calendar")
    event_batch, event_failure = _read(
        runtime, calendar, lambda: runtime.sources.calendar.events(_side(cursors, EVENTS)), persist
    )
    stored_releases, stored_events = store.load_snapshot(key)
    releases = _merge(stored_releases, release_batch, attrgetter("id"))
    events = _merge(stored_events, event_batch, attrgetter("calendar_id", "id"))
    slips: list[Any] = []
    if persist:
        changes = _changes(runtime, stored_releases, releases)
        slips = list(store.record_release_dates(key, releases, now, changes))
        if release_batch.complete or event_batch.complete:
            store.apply_snapshot(key, releases, events, complete=True)
        else:
            store.apply_snapshot(key, release_batch.items, event_batch.items, complete=False)
        store.save_cursors(
            key,
            {**_prefixed(RELEASES, release_batch.cursor), **_prefixed(EVENTS, event_batch.cursor)},
        )
        _note_changes(runtime, release_batch, event_batch, now)
    problems = [*release_batch.problems, *event_batch.problems]
    failed = [f for f in (release_failure, event_failure) if f is not None]
    return Fetched(releases, events, problems, slips, failed)


def calendar_source(kind: str) -> str:
    """The freshness name of the calendar side: `calendar:google`, `calendar:caldav`, ..."""
    return f"calendar:{kind}"


def _read(
    runtime: Runtime, source: str, read: Callable[[], Batch[T]], persist: bool
) -> tuple[Batch[T], Blindness | None]:
    """One side's read, its failure turned into an empty delta and a Blindness."""
    try:
        batch = read()
    except LaunchsyncError as exc:
        error = runtime.redactor(str(exc))
        if persist:
            status = exc.status if isinstance(exc, ConnectorError) else None
            runtime.store.record_read(runtime.config_key, source, error=error, status=_http(status))
        reason = f"could not be read this run, so nothing is acted on: {error}"
        return Batch(items=(), complete=False), Blindness(source=source, reason=reason)
    if persist:
        runtime.store.record_read(runtime.config_key, source)
    return batch, None


def _note_changes(
    runtime: Runtime, releases: Batch[Release], events: Batch[LaunchEvent], now: dt.datetime
) -> None:
    """Note the newest change a delta read brought from each webhook-watched source.

    Only deltas: a full read returns old items too, which no webhook announced now. An item
    without `updated` (a Jira version) changed between the last read and `now`.
    """
    newest: dict[str, dt.datetime] = {}
    changed = [] if releases.complete else [(JIRA_WEBHOOKS, r.updated) for r in releases.items]
    if not events.complete:
        changed += [(GOOGLE_WEBHOOKS + e.calendar_id, e.updated) for e in events.items]
    for source, updated in changed:
        newest[source] = max(newest.get(source, updated or now), updated or now)
    watched = webhook_sources(runtime.config)
    for source, at in newest.items():
        if source in watched:
            runtime.store.record_change(runtime.config_key, source, at)


def _http(status: int | str | None) -> int | None:
    return status if isinstance(status, int) else None


def _side(cursors: Mapping[str, str], side: str) -> dict[str, str] | None:
    prefix = f"{side}:"
    mine = {k.removeprefix(prefix): v for k, v in cursors.items() if k.startswith(prefix)}
    return mine or None


def _prefixed(side: str, cursor: Mapping[str, str]) -> dict[str, str]:
    return {f"{side}:{k}": v for k, v in cursor.items()}


def _merge(stored: list[T], batch: Batch[T], key: Callable[[T], Hashable]) -> list[T]:
    """The full set after a read: the batch itself, or the stored set patched by a delta.

    Stored events of a calendar the batch could not read stand: its absence from a complete
    read would otherwise look like every one of its events was deleted.
    """
    if batch.complete:
        kept = [item for item in stored if _in_unread(item, batch.unread)]
        return kept + [item for item in batch.items if _live(item)]
    merged = {key(item): item for item in stored}
    gone: set[tuple[str, str]] = set()
    for item in batch.items:
        if _live(item):
            merged[key(item)] = item
        else:
            merged.pop(key(item), None)  # a cancelled event in a delta is a deletion
            if isinstance(item, LaunchEvent):
                gone.add((item.calendar_id, f"{item.id}/"))
    if gone:
        # A deleted recurring series takes its expanded occurrences (`uid/<start>`) along.
        merged = {k: v for k, v in merged.items() if not _occurrence_of(v, gone)}
    return list(merged.values())


def _occurrence_of(item: Release | LaunchEvent, gone: set[tuple[str, str]]) -> bool:
    if not isinstance(item, LaunchEvent) or "/" not in item.id:
        return False
    return any(item.calendar_id == cal and item.id.startswith(prefix) for cal, prefix in gone)


def _in_unread(item: Release | LaunchEvent, unread: tuple[str, ...]) -> bool:
    return isinstance(item, LaunchEvent) and item.calendar_id in unread


def _live(item: Release | LaunchEvent) -> bool:
    return not isinstance(item, LaunchEvent) or item.live


def _changes(runtime: Runtime, before: list[Release], after: list[Release]) -> Changes:
    """Who moved the releases whose dates changed since the snapshot, when the source knows."""
    source = runtime.sources.releases
    old = {r.id: r.date for r in before}
    moved = [r for r in after if r.id in old and old[r.id] != r.date]
    if not moved or not isinstance(source, ChangeHistory):
        return {}
    return source.date_changes(moved)
