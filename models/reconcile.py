"""The reconciler: releases + events + policy + what we knew before + today -> Plan.

Pure: no I/O, no clock. The one place where the divergence table of ARCHITECTURE.md lives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from models.dates import event_day
from models.event import EventStatus, LaunchEvent
from models.freshness import Blindness
from models.linking import Link, LinkIndex, VersionColumns
from models.plan import (
    Action,
    ActionKind,
    Divergence,
    DivergenceKind,
    ItemProblem,
    Plan,
    Severity,
    Urgency,
)
from models.policy import Policy
from models.release import Release, ReleaseKind

# Enum members bound once: class-attribute lookups on an Enum are slow on hot paths.
DATE_MISMATCH, MISSING_EVENT = DivergenceKind.DATE_MISMATCH, DivergenceKind.MISSING_EVENT
ORPHAN_EVENT, OVERDUE_RELEASE = DivergenceKind.ORPHAN_EVENT, DivergenceKind.OVERDUE_RELEASE
RELEASE_UNSCHEDULED = DivergenceKind.RELEASE_UNSCHEDULED
CRITICAL, WARNING, INFO = Severity.CRITICAL, Severity.WARNING, Severity.INFO
IMMEDIATE, DIGEST = Urgency.IMMEDIATE, Urgency.DIGEST
OPEN_TICKET, COMMENT_TICKET = ActionKind.OPEN_TICKET, ActionKind.COMMENT_TICKET
RESOLVE_TICKET, ALERT = ActionKind.RESOLVE_TICKET, ActionKind.ALERT
CANCELLED, VERSION = EventStatus.CANCELLED, ReleaseKind.VERSION
Item = TypeVar("Item", Release, LaunchEvent)
_ID, _CALENDAR_AND_ID = attrgetter("id"), attrgetter("calendar_id", "id")


@dataclass(frozen=True, slots=True)
class KnownDivergence:
    """What the state store remembers of a divergence it acted on."""

    identity: str
    fingerprint: str
    ticket: str | None = None


def reconcile(
    releases: Iterable[Release],
    events: Iterable[LaunchEvent],
    policy: Policy,
    *,
    today: dt.date,
    business_zone: ZoneInfo,
    generated_at: dt.datetime,
    previous: Mapping[str, KnownDivergence] | None = None,
    problems: Iterable[ItemProblem] = (),
    blind: Iterable[Blindness] = (),
) -> Plan:
    """Every divergence between releases and events, and the actions they call for.

    While launchsync is `blind` to a source, every launch is unknown: the divergences are
    those of the last data seen, and no action follows from them (stale data can neither
    prove a launch aligned nor that a date moved).
    """
    rules = _Rules(policy, today)
    scan = _ReleaseScan.of(releases, rules)
    index = LinkIndex.of_columns(scan.projects, scan.versions, policy)
    found, linked = _check_events(events, index, rules, scan.by_id, business_zone)
    found.extend(rules.check_releases(scan.candidates, linked))

    divergences = tuple(sorted(found, key=_plan_order))
    blindness = tuple(sorted(blind, key=lambda b: b.source))
    return Plan(
        generated_at=generated_at,
        today=today,
        divergences=divergences,
        actions=() if blindness else plan_actions(divergences, previous or {}),
        problems=tuple(sorted(problems, key=lambda p: p.item)),
        blind=blindness,
    )


@dataclass(slots=True)
class _ReleaseScan:
    """What reconciling needs from the releases, gathered in one pass over them.

    At 100,000 releases each pass over the models costs ~30 ms in cache misses alone, so
    the ids, the link index's columns and the release checks' candidates come together.
    """

    by_id: dict[str, Release]
    projects: set[str]
    versions: VersionColumns
    # Dated within the horizon and not shipped, with that date: only these can be overdue
    # or missing an event, so the release checks never touch the others again.
    candidates: list[tuple[Release, dt.date]]

    @classmethod
    def of(cls, releases: Iterable[Release], rules: _Rules) -> _ReleaseScan:
        """One pass; a duplicated id settles its winner first and scans again."""
        listed = list(releases)
        scan = cls({}, set(), VersionColumns(), [])
        by_id, horizon_end, versions = scan.by_id, rules.horizon_end, scan.versions
        # Bound once: this loop runs once per release (100,000s of them).
        add_project, candidate = scan.projects.add, scan.candidates.append
        add_id, add_name = versions.ids.append, versions.names.append
        add_version_project = versions.projects.append
        for release in listed:
            release_id = release.id
            if release_id in by_id:
                return cls.of(_unique(listed, key=_ID).values(), rules)
            by_id[release_id] = release
            project = release.project
            add_project(project)
            if release.kind is VERSION:
                add_id(release_id)
                add_version_project(project)
                add_name(release.name)
            day = release.date
            if (
                day is not None
                and day <= horizon_end
                and not (release.released or release.archived)
            ):
                candidate((release, day))
        return scan


def _check_events(
    events: Iterable[LaunchEvent],
    index: LinkIndex,
    rules: _Rules,
    releases: Mapping[str, Release],
    zone: ZoneInfo,
) -> tuple[list[Divergence], set[str]]:
    """Divergences of the live events, and the ids of the releases they link to.

    An event listed twice (same calendar and id) is checked once, in the copy that wins.
    """
    listed = list(events)
    # Unique ids rule duplicates out in one C-level pass, at a third of the cost of
    # (calendar, id) pairs; an id shared by calendars only takes the exact way.
    if len(set(map(_ID, listed))) != len(listed):
        listed = list(_unique((e for e in listed if e.live), key=_CALENDAR_AND_ID).values())
    found: list[Divergence] = []
    linked: set[str] = set()
    # Bound once: this loop runs once per calendar event (100,000s in big calendars).
    link_of, check_event, keep_unlinked = index.link, rules.check_event, rules.unlinked_filter
    for event in listed:
        if event.status is CANCELLED:
            continue
        link = link_of(event)
        if link is not None:
            linked.add(link.release_id)
        elif keep_unlinked is None:
            continue  # most calendar events are about nothing we track
        start = event.start
        # An all-day start is already the business day; only date-times need a time zone.
        day = start if start.__class__ is dt.date else event_day(event, zone)
        found_here = check_event(event, day, link, releases)
        if found_here is not None:
            found.append(found_here)
    return found, linked


def _unique(items: Iterable[Item], *, key: Callable[[Item], Any]) -> dict[Any, Item]:
    """Index items by id; on a duplicate id keep the same winner whatever the input order."""
    listed = list(items)
    out = dict(zip(map(key, listed), listed, strict=True))
    if len(out) == len(listed):
        return out
    for item in listed:
        held = out[key(item)]
        # Duplicates are rare; comparing their JSON keeps the result order-independent.
        if item.model_dump_json() > held.model_dump_json():
            out[key(item)] = item
    return out


_RANK = {severity: severity.rank for severity in Severity}


def _plan_order(d: Divergence) -> tuple[int, dt.date, str]:
    return (_RANK[d.severity], d.sort_date, d.identity)


class _Rules:
    """The divergence table, row by row, for one policy and one `today`."""

    def __init__(self, policy: Policy, today: dt.date) -> None:
        self.policy = policy
        self.event_type, self.event_offset = policy.event_type, policy.event_offset
        self.today = today
        self.horizon_end = today + dt.timedelta(days=policy.horizon_days)
        self.tolerance = policy.tolerance_days
        notice = dt.timedelta(days=policy.notice_days)
        self.notice_start, self.notice_end = today - notice, today + notice
        pattern = policy.unlinked_filter
        self.unlinked_filter = re.compile(pattern, re.IGNORECASE) if pattern else None

    def severity(self, *days: dt.date | None, launch_first: bool = False) -> Severity:
        """Critical when the launch comes first or a date is within notice; info past horizon."""
        if launch_first:
            return CRITICAL
        beyond_horizon = True
        for day in days:
            if day is None:
                continue
            if self.notice_start <= day <= self.notice_end:
                return CRITICAL
            beyond_horizon = beyond_horizon and day > self.horizon_end
        return INFO if beyond_horizon else WARNING

    def check_event(
        self, event: LaunchEvent, day: dt.date, link: Link | None, releases: Mapping[str, Release]
    ) -> Divergence | None:
        """date_mismatch, orphan_event or release_unscheduled for one live event."""
        if link is None:
            if self.unlinked_filter and self.unlinked_filter.search(event.title):
                return self._orphan(event, day, None, None, "is not linked to any release")
            return None
        release = releases.get(link.release_id)
        if release is None:
            why = f"links to {link.release_id}, which does not exist"
            return self._orphan(event, day, None, link.release_id, why)
        if release.archived:
            why = f"links to {release.label}, which is archived"
            return self._orphan(event, day, release, release.id, why)
        if release.date is None:
            return Divergence(
                kind=RELEASE_UNSCHEDULED,
                severity=self.severity(day),
                release=release,
                event=event,
                event_date=day,
                delta_days=None,
                message=f"'{event.title}' on {day} is for {release.label}, "
                "which has no release date",
            )
        return self._date_mismatch(event, day, release, release.date)

    def _date_mismatch(
        self, event: LaunchEvent, day: dt.date, release: Release, release_date: dt.date
    ) -> Divergence | None:
        offset = self.event_offset(event)
        delta = (day - release_date).days - offset
        if -self.tolerance <= delta <= self.tolerance:
            return None
        event_type = self.event_type(event)
        expected = release_date + dt.timedelta(days=offset)
        before_release = day < release_date
        when = "before the release" if before_release else f"{abs(delta)} days off"
        sign = "early" if delta < 0 else "late"
        return Divergence(
            kind=DATE_MISMATCH,
            severity=self.severity(day, release_date, launch_first=before_release),
            release=release,
            event=event,
            event_date=day,
            delta_days=delta,
            message=f"{event_type} '{event.title}' is on {day} but {release.label} "
            f"ships {release_date}; expected {expected} ({offset:+d}d): {abs(delta)} days "
            f"{sign}, {when}",
        )

    def _orphan(
        self,
        event: LaunchEvent,
        day: dt.date,
        release: Release | None,
        release_id: str | None,
        why: str,
    ) -> Divergence:
        return Divergence(
            kind=ORPHAN_EVENT,
            severity=self.severity(day),
            release=release,
            event=event,
            event_date=day,
            delta_days=None,
            message=f"'{event.title}' on {day} {why}",
            linked_release_id=release_id,
        )

    def check_releases(
        self, candidates: Iterable[tuple[Release, dt.date]], linked: set[str]
    ) -> list[Divergence]:
        """missing_event and overdue_release for the scan's candidates (`linked`: ids with
        an event)."""
        today = self.today
        found: list[Divergence] = []
        for release, day in candidates:
            if day < today:
                found.append(self._overdue(release, day))
            elif release.id not in linked:
                found.append(
                    Divergence(
                        kind=MISSING_EVENT,
                        severity=self.severity(day),
                        release=release,
                        event=None,
                        delta_days=None,
                        message=f"{release.label} ships {day} and has no launch event "
                        "on the calendar",
                    )
                )
        return found

    def _overdue(self, release: Release, day: dt.date) -> Divergence:
        overdue = (self.today - day).days
        return Divergence(
            kind=OVERDUE_RELEASE,
            severity=self.severity(day),
            release=release,
            event=None,
            delta_days=overdue,
            message=f"{release.label} was due {day} and is not released ({overdue} days overdue)",
        )


def plan_actions(
    divergences: Iterable[Divergence], previous: Mapping[str, KnownDivergence]
) -> tuple[Action, ...]:
    """Open what is new, comment and re-alert what changed, resolve what disappeared.

    Informational findings get neither a ticket nor an alert.
    """
    actions: list[Action] = []
    current: set[str] = set()
    for d in divergences:
        if d.severity is INFO:
            continue
        identity = d.identity
        current.add(identity)
        known = previous.get(identity)
        if known is None:
            actions.append(Action(kind=OPEN_TICKET, identity=identity, summary=d.message))
        elif known.fingerprint != d.fingerprint:
            actions.append(
                Action(
                    kind=COMMENT_TICKET, identity=identity, summary=d.message, ticket=known.ticket
                )
            )
        else:
            continue
        urgency = IMMEDIATE if d.severity is CRITICAL else DIGEST
        actions.append(Action(kind=ALERT, identity=identity, summary=d.message, urgency=urgency))
    for identity in sorted(set(previous) - current):
        actions.append(
            Action(
                kind=RESOLVE_TICKET,
                identity=identity,
                summary="aligned again",
                ticket=previous[identity].ticket,
            )
        )
    return tuple(actions)
