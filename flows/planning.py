"""Read both sides and reconcile them: the plain functions behind `plan` and the flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flows.bootstrap import Sources
from models.config import Config
from models.dates import zone
from models.plan import Plan
from models.reconcile import KnownDivergence, reconcile


def today_in(config: Config, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the business time zone."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(zone(config.timezone)).date()


def build_plan(
    config: Config,
    sources: Sources,
    *,
    today: dt.date,
    previous: Mapping[str, KnownDivergence] | None = None,
) -> Plan:
    """Fetch releases and events and reconcile them into a plan."""
    releases = sources.releases.releases()
    events = sources.calendar.events()
    return reconcile(
        releases.items,
        events.items,
        config.policy,
        today=today,
        business_zone=zone(config.timezone),
        generated_at=dt.datetime.now(dt.UTC),
        previous=previous,
        problems=(*releases.problems, *events.problems),
    )
