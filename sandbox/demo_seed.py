"""A realistic launch plan for the demo and examples, in the vendors' own JSON (contract 5).

Three products, each with released, upcoming, slipped, unscheduled, archived and overdue
versions, launch epics dated by a custom field, and a marketing calendar of blog posts,
webinars, emails and events — including launches before their release, orphaned and
cancelled events and a late-evening webinar whose UTC date is the next day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

CALENDAR_ID = "marketing@launchsync.example"
BUSINESS_ZONE = "America/Los_Angeles"
LAUNCH_FIELD = {
    "id": "customfield_10015",
    "name": "Launch date",
    "custom": True,
    "schema": {
        "type": "date",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:datepicker",
    },
}
PRODUCTS = (("ATL", "Atlas", "10000"), ("BCN", "Beacon", "10001"), ("CMT", "Comet", "10002"))
# (version, days from today or None, released, archived): the story of each product line.
VERSION_PLAN = (
    ("1.0", -60, True, False),
    ("1.1", -20, True, False),
    ("2.0", 10, False, False),
    ("2.1", 31, False, False),
    ("2.2", 55, False, False),
    ("3.0", None, False, False),
    ("0.9-beta", -120, False, True),
    ("1.2", -5, False, False),
    ("4.0", 150, False, False),
)
ALIGNED = (
    ("blog", 0, "launch blog post"),
    ("email", 0, "customer email"),
    ("webinar", 7, "launch webinar"),
    ("default", 0, "social posts"),
)


def _id(*parts: object) -> str:
    # Google event ids are base32hex; lowercase hex digits are a subset.
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:20]  # noqa: S324


def _version(
    project_id: str, vid: str, name: str, day: dt.date | None, released: bool, archived: bool
) -> dict[str, Any]:
    version: dict[str, Any] = {
        "id": vid,
        "name": name,
        "description": f"Release {name}",
        "archived": archived,
        "released": released,
        "projectId": int(project_id),
    }
    if day is not None:
        version["releaseDate"] = day.isoformat()
    return version


def _all_day(day: dt.date, days: int = 1) -> dict[str, Any]:
    return {
        "start": {"date": day.isoformat()},
        "end": {"date": (day + dt.timedelta(days=days)).isoformat()},
    }


def _event(
    key: str,
    title: str,
    when: dict[str, Any],
    owner: str,
    links: dict[str, str],
    status: str = "confirmed",
) -> dict[str, Any]:
    event_id = _id(key, title)
    return {
        "kind": "calendar#event",
        "id": event_id,
        "status": status,
        "summary": title,
        "description": f"Owner: {owner}",
        "organizer": {"email": owner},
        "iCalUID": f"{event_id}@google.com",
        "updated": "2026-01-05T09:00:00.000Z",
        "extendedProperties": {"private": links},
        **when,
    }


def build_demo_seed(today: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    """(jira.json, calendars.json) of the demo launch plan, dated relative to `today`."""
    projects, issues, events = [], [], []
    for index, (key, product, project_id) in enumerate(PRODUCTS):
        owner = f"pmm-{product.lower()}@launchsync.example"
        versions = []
        for n, (name, offset, released, archived) in enumerate(VERSION_PLAN):
            day = today + dt.timedelta(days=offset + index) if offset is not None else None
            vid = str(11000 + index * 100 + n)
            versions.append(_version(project_id, vid, name, day, released, archived))
            events.extend(_version_events(key, product, name, vid, day, owner))
        lead = {
            "accountId": f"lead-{key.lower()}",
            "emailAddress": f"eng-{product.lower()}@launchsync.example",
            "displayName": f"{product} engineering lead",
        }
        projects.append(
            {"key": key, "id": project_id, "name": product, "lead": lead, "versions": versions}
        )
        epic_day = today + dt.timedelta(days=21 + 7 * index)
        issues.append(_epic(key, project_id, 101, f"{product} single sign-on", epic_day, owner))
        events.append(
            _event(key, f"[{key}-101] {product} SSO announcement", _all_day(epic_day), owner, {})
        )
        audit_day = today + dt.timedelta(days=48 + index)
        issues.append(_epic(key, project_id, 102, f"{product} audit log", audit_day, owner))
        # Marketing planned the audit-log blog three days after the epic's launch date.
        events.append(
            _event(
                key,
                f"{product} audit log blog [{key}-102]",
                _all_day(audit_day + dt.timedelta(days=3)),
                owner,
                {},
            )
        )
        events.extend(_filler(key, product, owner, today, index))
    events.extend(_special_events(today))
    jira = {"deployment": "Cloud", "fields": [LAUNCH_FIELD], "projects": projects, "issues": issues}
    return jira, {CALENDAR_ID: events}


def _version_events(
    key: str, product: str, name: str, vid: str, day: dt.date | None, owner: str
) -> list[dict[str, Any]]:
    link = {"jiraVersionId": vid}
    title = f"{product} {name}"
    if name == "2.1" and day is not None:
        # Engineering slipped 2.1 by a week; marketing still has the old dates.
        old = day - dt.timedelta(days=7)
        return [
            _event(key, f"{title} {what}", _all_day(old), owner, {**link, "launchType": t})
            for t, _, what in ALIGNED[:2]
        ]
    if name == "2.2":
        return [
            _event(
                key,
                f"{title} launch webinar",
                _all_day(day or dt.date.min),
                owner,
                {**link, "launchType": "webinar"},
                status="cancelled",
            )
        ]
    if name in ("3.0", "0.9-beta"):
        return [_event(key, f"{title} teaser blog", _all_day(dt.date(2027, 2, 1)), owner, link)]
    if name == "4.0" and day is not None:
        return [
            _event(
                key,
                f"{title} keynote",
                _all_day(day + dt.timedelta(days=3), 2),
                owner,
                {**link, "launchType": "event"},
            )
        ]
    if day is None or name == "1.2":
        return []
    out = [
        _event(
            key,
            f"{title} {what}",
            _all_day(day + dt.timedelta(days=shift)),
            owner,
            {**link, "launchType": t},
        )
        for t, shift, what in ALIGNED
    ]
    if name == "2.0":
        # The nurture email was scheduled two days before the release.
        out.append(
            _event(
                key,
                f"{title} nurture email",
                _all_day(day - dt.timedelta(days=2)),
                owner,
                {**link, "launchType": "email"},
            )
        )
    return out


def _epic(
    key: str, project_id: str, number: int, summary: str, day: dt.date, owner: str
) -> dict[str, Any]:
    return {
        "id": str(20000 + int(project_id) % 100 * 100 + number),
        "key": f"{key}-{number}",
        "fields": {
            "summary": summary,
            "issuetype": {"name": "Epic"},
            "labels": ["launch"],
            "project": {"key": key, "id": project_id},
            "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
            "assignee": {
                "emailAddress": owner.replace("pmm-", "eng-"),
                "displayName": f"{key} engineering lead",
            },
            "duedate": day.isoformat(),
            LAUNCH_FIELD["id"]: day.isoformat(),
            "updated": "2026-01-05T09:00:00.000+0000",
        },
    }


def _filler(key: str, product: str, owner: str, today: dt.date, index: int) -> list[dict[str, Any]]:
    """Everyday calendar life: events that are not about a release (ignored)."""
    topics = (
        "customer story",
        "office hours",
        "partner spotlight",
        "community call",
        "product tips video",
        "analyst briefing",
        "case study",
        "roadmap AMA",
        "user group",
        "podcast episode",
        "docs refresh",
        "hackathon",
        "beta feedback session",
    )
    return [
        _event(
            key,
            f"{product} {topic}",
            _all_day(today + dt.timedelta(days=3 + 6 * n + index)),
            owner,
            {},
        )
        for n, topic in enumerate(topics)
    ]


def _special_events(today: dt.date) -> list[dict[str, Any]]:
    owner = "events@launchsync.example"
    atlas_20 = today + dt.timedelta(days=10 + 7)
    evening = dt.datetime.combine(atlas_20, dt.time(21, 30)).isoformat()
    london = dt.datetime.combine(atlas_20 + dt.timedelta(days=1), dt.time(6, 0)).isoformat()
    late = {
        "start": {"dateTime": evening, "timeZone": BUSINESS_ZONE},
        "end": {"dateTime": evening[:11] + "22:30:00", "timeZone": BUSINESS_ZONE},
    }
    uk = {
        "start": {"dateTime": london + "+00:00", "timeZone": "Europe/London"},
        "end": {"dateTime": london[:11] + "07:00:00+00:00", "timeZone": "Europe/London"},
    }
    return [
        # 21:30 in Los Angeles is 05:30 UTC the next day: a naive UTC date would be wrong.
        _event(
            "SPC",
            "Atlas 2.0 APAC launch webinar (evening PT)",
            late,
            owner,
            {"jiraVersionId": "11002", "launchType": "webinar"},
        ),
        _event(
            "SPC",
            "Atlas 2.0 EMEA webinar (London morning)",
            uk,
            owner,
            {"jiraVersionId": "11002", "launchType": "webinar"},
        ),
        _event(
            "SPC",
            "Orbit 1.0 launch party",
            _all_day(today + dt.timedelta(days=40)),
            owner,
            {"jiraVersionId": "99999"},
        ),
        _event("SPC", "Spring launch roundup", _all_day(today + dt.timedelta(days=70)), owner, {}),
        _event("SPC", "LaunchCon booth", _all_day(today + dt.timedelta(days=45), 3), owner, {}),
    ]


def demo_config(api_jira: str, calendar: dict[str, Any], state_url: str) -> dict[str, Any]:
    """A config (contract 4) for the demo plan, given where Jira and the calendar are."""
    return {
        "timezone": BUSINESS_ZONE,
        "jira": {
            # No credentials: the demo's emulator checks none, and a config may carry a
            # secret only as a ${VAR} reference (models/config_secrets).
            "url": api_jira,
            "projects": [p[0] for p in PRODUCTS],
            "issue_jql": "labels = launch",
            "date_field": "Launch date",
            "tickets": {"project": "ATL"},
        },
        "calendar": calendar,
        "policy": {
            "notice_days": 14,
            "horizon_days": 90,
            "tolerance_days": 0,
            "unlinked_filter": r"\blaunch\b",
        },
        "state": {"url": state_url},
    }


def write_demo_seed(seed_dir: Path, today: dt.date) -> None:
    """Write jira.json and calendars.json of the demo plan into `seed_dir`."""
    jira, calendars = build_demo_seed(today)
    seed_dir.mkdir(parents=True, exist_ok=True)
    (seed_dir / "jira.json").write_text(json.dumps(jira, indent=1), encoding="utf-8")
    (seed_dir / "calendars.json").write_text(json.dumps(calendars, indent=1), encoding="utf-8")
