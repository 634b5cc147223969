"""Recipient labels: claims stored before this release kept channel URLs, tokens and all.

Each channel URL among a claim's recipients becomes `scheme://…#hash`, as
`connectors.channels.recipient_label` names channels from now on (by scheme rather than
kind: a migration must not change when the code does). E-mail addresses stay.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

ALERTS = sa.table(
    "launchsync_alerts",
    sa.column("config_key", sa.String),
    sa.column("alert_key", sa.String),
    sa.column("recipients", sa.Text),
)


def _label(target: str) -> str:
    if "://" not in target or "://…#" in target:
        return target
    digest = hashlib.sha256(target.encode()).hexdigest()[:12]
    return f"{target.split('://', 1)[0].lower()}://…#{digest}"


def upgrade() -> None:
    """Replace every stored channel URL by its label."""
    db = op.get_bind()
    c = ALERTS.c
    for row in db.execute(sa.select(c.config_key, c.alert_key, c.recipients)).all():
        stored = json.loads(row.recipients)
        labelled = [_label(str(r)) for r in stored]
        if labelled != stored:
            db.execute(
                sa.update(ALERTS)
                .where(c.config_key == row.config_key, c.alert_key == row.alert_key)
                .values(recipients=json.dumps(labelled))
            )


def downgrade() -> None:
    """Nothing to undo: the URLs are not kept anywhere to restore."""
