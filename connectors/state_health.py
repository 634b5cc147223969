"""What the store remembers about its sources' health, the push channels it opened and
when webhooks last arrived.

Functions over an open connection; `StateStore` gives each its own transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, delete, or_, select, update

from connectors import state_db
from connectors.state_schema import source_health, watch_channels, webhook_activity
from models.freshness import Channel, SourceHealth, WebhookActivity


def record_read(
    db: Connection,
    config_key: str,
    source: str,
    at: dt.datetime,
    error: str | None,
    status: int | None,
) -> None:
    """Note one read of a source: a success resets the failure count, a failure adds one."""
    c = source_health.c
    row = {"config_key": config_key, "source": source, "last_attempt": at}
    if error is None:
        ok = {"last_success": at, "failures": 0, "last_error": None, "last_status": None}
        if not state_db.insert_new(db, source_health, {**row, **ok}):
            db.execute(
                update(source_health)
                .where(c.config_key == config_key, c.source == source)
                .values(last_attempt=at, **ok)
            )
        return
    failed = {"last_error": error[:1000], "last_status": status}
    if not state_db.insert_new(
        db, source_health, {**row, "last_success": None, "failures": 1, **failed}
    ):
        # failures + 1 in SQL: two overlapping runs both count, neither loses the other's.
        db.execute(
            update(source_health)
            .where(c.config_key == config_key, c.source == source)
            .values(last_attempt=at, failures=c.failures + 1, **failed)
        )


def health(db: Connection, config_key: str) -> list[SourceHealth]:
    """Every source's health, by name."""
    c = source_health.c
    rows = db.execute(
        select(source_health).where(c.config_key == config_key).order_by(c.source)
    ).mappings()
    return [
        SourceHealth(
            source=r["source"],
            last_attempt=r["last_attempt"],
            last_success=r["last_success"],
            failures=r["failures"],
            last_error=r["last_error"],
            last_status=r["last_status"],
        )
        for r in rows
    ]


def save_channel(db: Connection, config_key: str, channel: Channel) -> None:
    """Remember the channel now open on a calendar (one per calendar)."""
    row = {
        "config_key": config_key,
        "calendar_id": channel.calendar_id,
        "channel_id": channel.channel_id,
        "resource_id": channel.resource_id,
        "expires_at": channel.expires_at,
    }
    state_db.upsert(db, watch_channels, [row])


def channels(db: Connection, config_key: str) -> list[Channel]:
    """The push channels launchsync holds open, by calendar."""
    c = watch_channels.c
    rows = db.execute(
        select(watch_channels).where(c.config_key == config_key).order_by(c.calendar_id)
    ).mappings()
    return [
        Channel(r["calendar_id"], r["channel_id"], r["resource_id"], r["expires_at"]) for r in rows
    ]


def note_webhook(
    db: Connection, config_key: str, source: str, at: dt.datetime, now: dt.datetime, *, change: bool
) -> None:
    """Note a webhook accepted (change False) or a change a sync saw (True) at `at`.

    Each writer touches only its own column, and a change only moves forward: the receiver
    and the syncs run in different processes.
    """
    c = webhook_activity.c
    column = "last_change" if change else "last_notified"
    row = {"config_key": config_key, "source": source, "first_seen": now, column: at}
    if state_db.insert_new(db, webhook_activity, row):
        return
    newer = or_(c[column].is_(None), c[column] < at)
    db.execute(
        update(webhook_activity)
        .where(c.config_key == config_key, c.source == source, newer)
        .values({column: at})
    )


def webhook_activity_of(db: Connection, config_key: str) -> list[WebhookActivity]:
    """Every watched source's webhook activity, by name."""
    c = webhook_activity.c
    rows = db.execute(
        select(webhook_activity).where(c.config_key == config_key).order_by(c.source)
    ).mappings()
    return [
        WebhookActivity(r["source"], r["first_seen"], r["last_notified"], r["last_change"])
        for r in rows
    ]


def forget_channel(db: Connection, config_key: str, calendar_id: str) -> None:
    """Forget a calendar's channel (it was stopped, or the calendar left the config)."""
    c = watch_channels.c
    db.execute(
        delete(watch_channels).where(c.config_key == config_key, c.calendar_id == calendar_id)
    )
