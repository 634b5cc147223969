"""What the store remembers having seen: the last snapshot of both sides, and slip history.

Functions over an open connection; `StateStore` gives each its own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select

from connectors import state_db
from connectors.state_schema import release_dates, snapshot_events, snapshot_releases
from models.event import LaunchEvent
from models.release import Release

Changes = Mapping[str, tuple[str | None, dt.datetime | None]]
NO_CHANGES: Changes = MappingProxyType({})
_CHUNK = 500  # ids per IN (...): well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Slip:
    """A release date that changed between two sightings."""

    release_id: str
    label: str
    old_date: dt.date | None
    new_date: dt.date | None
    changed_by: str | None
    changed_at: dt.datetime | None
    seen_at: dt.datetime


def require_aware(name: str, value: dt.datetime) -> None:
    """Refuse a naive datetime: every stored time is UTC and must say so."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} {value.isoformat()} is naive: pass a timezone-aware datetime")


def load_snapshot(db: Connection, config_key: str) -> tuple[list[Release], list[LaunchEvent]]:
    """The stored releases and live events, in key order."""
    r, e = snapshot_releases.c, snapshot_events.c
    rel = db.scalars(select(r.body).where(r.config_key == config_key).order_by(r.release_id))
    releases = [Release.model_validate_json(body) for body in rel]
    ev = db.scalars(
        select(e.body).where(e.config_key == config_key).order_by(e.calendar_id, e.event_id)
    )
    return releases, [LaunchEvent.model_validate_json(body) for body in ev]


def apply_snapshot(
    db: Connection,
    config_key: str,
    releases: Iterable[Release],
    events: Iterable[LaunchEvent],
    *,
    complete: bool,
) -> None:
    """Replace the stored set (complete) or upsert a delta; cancelled events are removed."""
    release_rows = [
        {"config_key": config_key, "release_id": r.id, "body": r.model_dump_json()}
        # Last one wins: one statement may not upsert the same key twice (PostgreSQL).
        for r in {r.id: r for r in releases}.values()
    ]
    live: dict[tuple[str, str], LaunchEvent] = {}
    cancelled: set[tuple[str, str]] = set()
    for event in events:
        ref = (event.calendar_id, event.id)
        if event.live:
            live[ref] = event
            cancelled.discard(ref)
        else:  # a cancelled event in a delta stands for a deletion
            live.pop(ref, None)
            cancelled.add(ref)
    event_rows = [
        {"config_key": config_key, "calendar_id": c, "event_id": i, "body": ev.model_dump_json()}
        for (c, i), ev in live.items()
    ]
    if complete:
        for table in (snapshot_releases, snapshot_events):
            db.execute(delete(table).where(table.c.config_key == config_key))
        insert_many(db, snapshot_releases, release_rows)
        insert_many(db, snapshot_events, event_rows)
        return
    state_db.upsert(db, snapshot_releases, release_rows)
    state_db.upsert(db, snapshot_events, event_rows)
    _delete_events(db, config_key, cancelled)


def insert_many(db: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows in bulk (SQLAlchemy batches an executemany into multi-row INSERTs)."""
    if rows:
        db.execute(insert(table), rows)


def _delete_events(db: Connection, config_key: str, refs: set[tuple[str, str]]) -> None:
    by_calendar: dict[str, list[str]] = {}
    for calendar_id, event_id in sorted(refs):
        by_calendar.setdefault(calendar_id, []).append(event_id)
    c = snapshot_events.c
    for calendar_id, ids in by_calendar.items():
        for start in range(0, len(ids), _CHUNK):
            db.execute(
                delete(snapshot_events).where(
                    c.config_key == config_key,
                    c.calendar_id == calendar_id,
                    c.event_id.in_(ids[start : start + _CHUNK]),
                )
            )
        for event_id in ids:
            # A deleted recurring series takes its expanded occurrences (`uid/<start>`) along.
            db.execute(
                delete(snapshot_events).where(
                    c.config_key == config_key,
                    c.calendar_id == calendar_id,
                    c.event_id.startswith(f"{event_id}/", autoescape=True),
                )
            )


def record_release_dates(
    db: Connection,
    config_key: str,
    releases: Iterable[Release],
    seen_at: dt.datetime,
    changes: Changes = NO_CHANGES,
) -> list[Slip]:
    """Store first sightings and changed dates; return the changes (slips)."""
    last = _last_dates(db, config_key)
    rows: list[dict[str, Any]] = []
    slips: list[Slip] = []
    for release in {r.id: r for r in releases}.values():
        first = release.id not in last
        if first:
            seen = Slip(release.id, release.label, None, release.date, None, None, seen_at)
            rows.append(_row(config_key, seen, first=True))
            continue
        if last[release.id] == release.date:
            continue
        by, at = changes.get(release.id, (None, None))
        if at is not None:
            require_aware(f"change time of {release.id}", at)
        slip = Slip(release.id, release.label, last[release.id], release.date, by, at, seen_at)
        rows.append(_row(config_key, slip, first=False))
        slips.append(slip)
    insert_many(db, release_dates, rows)
    return slips


def slip_history(db: Connection, config_key: str, release_id: str | None) -> list[Slip]:
    """Recorded date changes (not first sightings), newest last."""
    c = release_dates.c
    query = select(
        c.release_id, c.label, c.old_date, c.new_date, c.changed_by, c.changed_at, c.seen_at
    ).where(c.config_key == config_key, c.first_seen.is_(False))
    if release_id is not None:
        query = query.where(c.release_id == release_id)
    return [Slip(*row) for row in db.execute(query.order_by(c.seen_at, c.id))]


def _last_dates(db: Connection, config_key: str) -> dict[str, dt.date | None]:
    """Each release's date as last recorded (its newest row)."""
    c = release_dates.c
    newest = select(func.max(c.id)).where(c.config_key == config_key).group_by(c.release_id)
    query = select(c.release_id, c.new_date).where(c.id.in_(newest))
    return {release_id: day for release_id, day in db.execute(query)}


def _row(config_key: str, slip: Slip, *, first: bool) -> dict[str, Any]:
    return {
        "config_key": config_key,
        "release_id": slip.release_id,
        "label": slip.label,
        "old_date": slip.old_date,
        "new_date": slip.new_date,
        "first_seen": first,
        "changed_by": slip.changed_by,
        "changed_at": slip.changed_at,
        "seen_at": slip.seen_at,
    }
