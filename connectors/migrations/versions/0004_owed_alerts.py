"""Owed alerts: an alert written down before a write-back that may end its divergence.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: a migration must not change when the models do.
KEY = sa.String(200)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the owed alerts table."""
    op.create_table(
        "launchsync_owed_alerts",
        sa.Column("config_key", KEY, primary_key=True),
        sa.Column("identity", sa.String(1000), primary_key=True),
        sa.Column("alert", sa.Text(), nullable=False),
        sa.Column("owed_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    """Drop it again."""
    op.drop_table("launchsync_owed_alerts")
