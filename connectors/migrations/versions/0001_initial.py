"""The first release's schema: cursors, snapshot, slip history, divergences, alerts, lock, runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: a migration must not change when the models do.
KEY = sa.String(200)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "launchsync_cursors",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("name", sa.String(500), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "launchsync_snapshot_releases",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("release_id", sa.String(200), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "launchsync_snapshot_events",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("calendar_id", sa.String(500), primary_key=True),
        sa.Column("event_id", sa.String(500), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "launchsync_release_dates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("config_key", KEY, nullable=False),
        sa.Column("release_id", sa.String(200), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("old_date", sa.Date, nullable=True),
        sa.Column("new_date", sa.Date, nullable=True),
        sa.Column("first_seen", sa.Boolean, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=True),
        sa.Column("changed_at", WHEN, nullable=True),
        sa.Column("seen_at", WHEN, nullable=False),
    )
    op.create_index(
        "ix_launchsync_release_dates_key",
        "launchsync_release_dates",
        ["config_key", "release_id", "id"],
    )
    _upgrade_acting()


def _upgrade_acting() -> None:
    op.create_table(
        "launchsync_divergences",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("identity", sa.String(1000), primary_key=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("ticket", sa.String(200), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "launchsync_alerts",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("alert_key", sa.String(1000), primary_key=True),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("claimed_at", WHEN, nullable=False),
        sa.Column("confirmed_at", WHEN, nullable=True),
    )
    op.create_table(
        "launchsync_locks",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("owner", sa.String(500), nullable=False),
        sa.Column("acquired_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
    )
    op.create_table(
        "launchsync_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("config_key", KEY, nullable=False),
        sa.Column("started", WHEN, nullable=False),
        sa.Column("finished", WHEN, nullable=False),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_launchsync_runs_key", "launchsync_runs", ["config_key", "status", "finished"]
    )


def downgrade() -> None:
    """Drop every table of the first release."""
    op.drop_index("ix_launchsync_runs_key", "launchsync_runs")
    op.drop_index("ix_launchsync_release_dates_key", "launchsync_release_dates")
    for table in (
        "launchsync_runs",
        "launchsync_locks",
        "launchsync_alerts",
        "launchsync_divergences",
        "launchsync_release_dates",
        "launchsync_snapshot_events",
        "launchsync_snapshot_releases",
        "launchsync_cursors",
    ):
        op.drop_table(table)
