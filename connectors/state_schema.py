"""The state store's tables (SQLAlchemy Core); alembic migrations create and evolve them.

Every table is keyed by `config_key` first: one database may hold several configs. Table
names carry a `launchsync_` prefix so a shared PostgreSQL database stays tidy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

VERSION_TABLE = "launchsync_alembic_version"

# Named constraints: alembic can only alter what it can name, on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
    }
)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone, so we add it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Aware in, UTC stored; SQLite gets it naive so its text compares in order."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware one")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Always an aware UTC datetime out."""
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _config_key() -> Column[str]:
    return Column("config_key", String(200), primary_key=True)


cursors = Table(
    "launchsync_cursors",
    metadata,
    _config_key(),
    Column("name", String(500), primary_key=True),
    Column("value", Text, nullable=False),
)

snapshot_releases = Table(
    "launchsync_snapshot_releases",
    metadata,
    _config_key(),
    Column("release_id", String(200), primary_key=True),
    Column("body", Text, nullable=False),  # Release.model_dump_json()
)

snapshot_events = Table(
    "launchsync_snapshot_events",
    metadata,
    _config_key(),
    Column("calendar_id", String(500), primary_key=True),
    Column("event_id", String(500), primary_key=True),
    Column("body", Text, nullable=False),  # LaunchEvent.model_dump_json()
)

# One row per sighting that matters: the first, and each time the date differs after it.
release_dates = Table(
    "launchsync_release_dates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("config_key", String(200), nullable=False),
    Column("release_id", String(200), nullable=False),
    Column("label", Text, nullable=False),
    Column("old_date", Date, nullable=True),
    Column("new_date", Date, nullable=True),
    Column("first_seen", Boolean, nullable=False),
    Column("changed_by", Text, nullable=True),
    Column("changed_at", UTCDateTime, nullable=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Index("ix_launchsync_release_dates_key", "config_key", "release_id", "id"),
)

divergences = Table(
    "launchsync_divergences",
    metadata,
    _config_key(),
    Column("identity", String(1000), primary_key=True),
    Column("fingerprint", Text, nullable=False),
    Column("ticket", String(200), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The primary key is the at-most-once guarantee: only one INSERT of a key can succeed.
alerts = Table(
    "launchsync_alerts",
    metadata,
    _config_key(),
    Column("alert_key", String(1000), primary_key=True),
    Column("recipients", Text, nullable=False),  # JSON list
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=True),
)

# An alert written down before a side effect that may end its divergence (a write-back
# move): if the run dies after that effect, the next run still sends it (then drops it).
owed_alerts = Table(
    "launchsync_owed_alerts",
    metadata,
    _config_key(),
    Column("identity", String(1000), primary_key=True),
    Column("alert", Text, nullable=False),  # JSON: key, recipients, subject, body, severity
    Column("owed_at", UTCDateTime, nullable=False),
)

locks = Table(
    "launchsync_locks",
    metadata,
    _config_key(),
    Column("owner", String(500), nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

runs = Table(
    "launchsync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("config_key", String(200), nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime, nullable=False),
    Column("status", String(50), nullable=False),
    Column("summary", Text, nullable=False),  # JSON object
    Index("ix_launchsync_runs_key", "config_key", "status", "finished"),
)

# How each source fared on its latest reads: the freshness watchdog's evidence.
source_health = Table(
    "launchsync_source_health",
    metadata,
    _config_key(),
    Column("source", String(200), primary_key=True),
    Column("last_success", UTCDateTime, nullable=True),
    Column("last_attempt", UTCDateTime, nullable=False),
    Column("failures", Integer, nullable=False),  # consecutive, since the last success
    Column("last_error", Text, nullable=True),  # redacted, one line
    Column("last_status", Integer, nullable=True),  # HTTP status of the last failure
)

# Google push channels launchsync opened, so a scheduled flow renews them before they lapse.
watch_channels = Table(
    "launchsync_watch_channels",
    metadata,
    _config_key(),
    Column("calendar_id", String(500), primary_key=True),
    Column("channel_id", String(200), nullable=False),
    Column("resource_id", String(500), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Per watched source ("jira", "google:<calendar id>"): when the receiver last accepted one of
# its webhooks and when a sync last saw it change, so silence on a live channel shows.
webhook_activity = Table(
    "launchsync_webhook_activity",
    metadata,
    _config_key(),
    Column("source", String(600), primary_key=True),
    Column("first_seen", UTCDateTime, nullable=False),  # the baseline before any webhook
    Column("last_notified", UTCDateTime, nullable=True),
    Column("last_change", UTCDateTime, nullable=True),  # the newest change a sync saw
)
