"""The launch timeline: per release, the Jira date, its marketing dates, drift and slips.

A pure view model (`build_timeline`) and an HTML rendering of it (`render_html`) — what a
marketer would rather look at than a table of divergences.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from models.dates import event_day
from models.event import LaunchEvent
from models.linking import LinkIndex
from models.plan import Plan, Severity
from models.policy import Policy
from models.release import Release

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class TimelineEvent:
    """A marketing date for a release, and how far it sits from where it should."""

    title: str
    kind: str
    day: dt.date
    expected: dt.date | None
    drift: int | None
    url: str | None


@dataclass
class TimelineRow:
    """One release with everything planned around it."""

    release: Release
    events: list[TimelineEvent] = field(default_factory=list)
    slips: list[Any] = field(default_factory=list)
    worst: str = "ok"


def build_timeline(
    releases: Iterable[Release],
    events: Iterable[LaunchEvent],
    policy: Policy,
    zone: ZoneInfo,
    plan: Plan,
    slips: Iterable[Any] = (),
) -> list[TimelineRow]:
    """Rows for every release that is dated, diverging or has events, soonest first."""
    by_id = {r.id: r for r in releases}
    rows = {rid: TimelineRow(release) for rid, release in by_id.items()}
    index = LinkIndex(by_id.values(), policy)
    for event in events:
        link = index.link(event) if event.live else None
        if link is None or link.release_id not in rows:
            continue
        release, kind = by_id[link.release_id], policy.event_type(event)
        day = event_day(event, zone)
        expected = (
            release.date + dt.timedelta(days=policy.offset_days(kind)) if release.date else None
        )
        drift = (day - expected).days if expected else None
        rows[release.id].events.append(
            TimelineEvent(event.title, kind, day, expected, drift, event.url)
        )
    for slip in slips:
        if slip.release_id in rows:
            rows[slip.release_id].slips.append(slip)
    worst: dict[str, int] = defaultdict(lambda: len(Severity))
    for d in plan.divergences:
        rid = d.release.id if d.release else None
        if rid in rows:
            worst[rid] = min(worst[rid], d.severity.rank)
    for rid, rank in worst.items():
        rows[rid].worst = list(Severity)[rank].value
    if plan.blind:
        # Stale data proves nothing: what would read "ok" is unknown until a source is back.
        for row in rows.values():
            row.worst = "unknown" if row.worst == "ok" else row.worst
    shown = [r for r in rows.values() if r.release.date or r.events or r.worst != "ok"]
    for row in shown:
        row.events.sort(key=lambda e: e.day)
    return sorted(shown, key=lambda r: (r.release.date or dt.date.max, r.release.label))


def render_html(rows: list[TimelineRow], plan: Plan, title: str = "launchsync timeline") -> str:
    """The timeline as a standalone HTML page (no scripts, no external assets)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    days = [d for row in rows for d in _days(row)]
    start = min([plan.today, *days]) if days else plan.today
    end = max([plan.today + dt.timedelta(days=30), *days]) if days else plan.today
    span = max((end - start).days, 1)

    def x(day: dt.date) -> float:
        return round(100 * (day - start).days / span, 2)

    return env.get_template("timeline.html").render(
        rows=rows,
        plan=plan,
        title=title,
        x=x,
        today_x=x(plan.today),
        start=start,
        end=end,
        counts={s.value: plan.count(s) for s in Severity},
    )


def _days(row: TimelineRow) -> list[dt.date]:
    return [d for d in [row.release.date, *(e.day for e in row.events)] if d is not None]


def render_markdown(rows: list[TimelineRow], plan: Plan) -> str:
    """The timeline as a markdown table (the Prefect artifact)."""
    lines = [f"# Launch timeline as of {plan.today}", ""]
    if plan.blind:
        blind = ", ".join(f"`{b.source}`" for b in plan.blind)
        lines += [f"**Launches are unknown: launchsync is blind to {blind}.**", ""]
    lines += ["| | release | Jira date | marketing dates | slips |", "|---|---|---|---|---|"]
    for row in rows:
        events = (
            "<br>".join(
                f"{e.day} {e.kind}: {e.title}" + (f" **({e.drift:+d}d)**" if e.drift else "")
                for e in row.events
            )
            or "_none planned_"
        )
        slips = "<br>".join(f"{s.old_date} → {s.new_date}" for s in row.slips)
        lines.append(
            f"| {row.worst} | {row.release.label} | {row.release.date or 'no date'} "
            f"| {events} | {slips} |"
        )
    return "\n".join(lines) + "\n"
