"""Small builders of domain objects for tests: only what a test cares about is spelled out."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from models.event import EventStatus, LaunchEvent
from models.plan import Plan
from models.policy import Policy
from models.reconcile import KnownDivergence, reconcile
from models.release import Release, ReleaseKind

TODAY = dt.date(2026, 11, 23)
LA = ZoneInfo("America/Los_Angeles")
_ids = itertools.count(1)


def day(offset: int) -> dt.date:
    """TODAY shifted by `offset` days."""
    return TODAY + dt.timedelta(days=offset)


def version(name: str = "2.4", date: dt.date | None = None, **fields: Any) -> Release:
    """A Jira version of PROJ."""
    values: dict[str, Any] = {
        "kind": ReleaseKind.VERSION,
        "id": str(10000 + next(_ids)),
        "key": "PROJ",
        "name": name,
        "project": "PROJ",
        "date": date,
    }
    return Release(**{**values, **fields})


def issue(key: str = "PROJ-7", date: dt.date | None = None, **fields: Any) -> Release:
    """A Jira issue standing for a release."""
    values: dict[str, Any] = {
        "kind": ReleaseKind.ISSUE,
        "id": key,
        "key": key,
        "name": "Feature",
        "project": key.split("-")[0],
        "date": date,
    }
    return Release(**{**values, **fields})


def event(
    start: dt.date | dt.datetime,
    *,
    links: Release | None = None,
    title: str = "Launch blog",
    kind: str | None = None,
    status: EventStatus = EventStatus.CONFIRMED,
    **fields: Any,
) -> LaunchEvent:
    """A calendar event, linked to a release by property when `links` is given."""
    properties = dict(fields.pop("properties", {}))
    if links is not None:
        key = "jiraIssueKey" if links.kind is ReleaseKind.ISSUE else "jiraVersionId"
        properties[key] = links.id
    if kind:
        properties["launchType"] = kind
    end = fields.pop("end", None)
    if end is None and not isinstance(start, dt.datetime):
        end = start + dt.timedelta(days=1)
    return LaunchEvent(
        source="google",
        calendar_id="marketing",
        id=f"e{next(_ids)}",
        title=title,
        start=start,
        end=end,
        status=status,
        properties=properties,
        **fields,
    )


def plan(
    releases: list[Release],
    events: list[LaunchEvent],
    policy: Policy | None = None,
    previous: dict[str, KnownDivergence] | None = None,
    today: dt.date = TODAY,
) -> Plan:
    """Reconcile in Los Angeles time as of TODAY."""
    return reconcile(
        releases,
        events,
        policy or Policy(),
        today=today,
        business_zone=LA,
        generated_at=dt.datetime(2026, 11, 23, tzinfo=dt.UTC),
        previous=previous,
    )


def kinds(p: Plan) -> list[str]:
    """The divergence kinds of a plan, in plan order."""
    return [d.kind.value for d in p.divergences]
