"""Webhook activity: when each watched source's webhooks last arrived, and last changed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: a migration must not change when the models do.
KEY = sa.String(200)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the webhook activity table."""
    op.create_table(
        "launchsync_webhook_activity",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("source", sa.String(600), primary_key=True),
        sa.Column("first_seen", WHEN, nullable=False),
        sa.Column("last_notified", WHEN, nullable=True),
        sa.Column("last_change", WHEN, nullable=True),
    )


def downgrade() -> None:
    """Drop it again."""
    op.drop_table("launchsync_webhook_activity")
