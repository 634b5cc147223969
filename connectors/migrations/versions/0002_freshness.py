"""Freshness: per-source read health and the Google push channels to renew.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: a migration must not change when the models do.
KEY = sa.String(200)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the source health and watch channel tables."""
    op.create_table(
        "launchsync_source_health",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("last_success", WHEN, nullable=True),
        sa.Column("last_attempt", WHEN, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
    )
    op.create_table(
        "launchsync_watch_channels",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("calendar_id", sa.String(500), primary_key=True),
        sa.Column("channel_id", sa.String(200), nullable=False),
        sa.Column("resource_id", sa.String(500), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("launchsync_watch_channels")
    op.drop_table("launchsync_source_health")
