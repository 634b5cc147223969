"""Alerts from divergences: who hears about them (routing) and what they read. Pure, no I/O.

An alert says what moved, from which date to which, who moved it and when (when the state
store knows), the expected date and how far off the event is, and links the ticket, the
Jira release and the calendar event; a digest entry says the same, shorter. Where nobody
knows who moved a date (Jira keeps no history of versions), the alert says when launchsync
saw it move. Bodies are markdown; the notifier adapts them per channel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from connectors.base import Alert
from models.config import AlertsConfig, RouteConfig
from models.freshness import Blindness
from models.plan import Divergence, DivergenceKind, Severity
from models.policy import Policy

PREFIX = "[launchsync]"
MAX_SUBJECT = 160
ISSUE_KEY = re.compile(r"^([A-Z][A-Z0-9_]*)-\d+$")
WHITESPACE = re.compile(r"\s+")


class SlipLike(Protocol):
    """A release date the state store saw move (`changed_by`, `changed_at`, `seen_at` optional)."""

    @property
    def old_date(self) -> dt.date | None: ...

    @property
    def new_date(self) -> dt.date | None: ...


@dataclass(frozen=True)
class Slip:
    """A release date that moved since the last run, and who moved it when (if known)."""

    release_id: str
    label: str
    old_date: dt.date | None
    new_date: dt.date | None
    changed_by: str | None = None
    changed_at: dt.datetime | None = None
    seen_at: dt.datetime | None = None


@dataclass(frozen=True)
class DigestItem:
    """One divergence waiting for the digest, with what its alert would have told."""

    divergence: Divergence
    slip: SlipLike | None = None
    ticket_url: str | None = None
    note: str | None = None


def route(
    divergence: Divergence, config: AlertsConfig, policy: Policy | None = None
) -> tuple[str, ...]:
    """Who hears about a divergence: every matching route, else the owners (if configured)."""
    policy = policy or Policy()
    targets = [t for r in config.routes if _matches(r, divergence, policy) for t in r.notify]
    if not targets and config.fallback_to_owners:
        event, release = divergence.event, divergence.release
        targets = [t for t in (event and event.organizer, release and release.owner) if t]
    return tuple(dict.fromkeys(t.strip() for t in targets if t.strip()))


def _matches(rule: RouteConfig, d: Divergence, policy: Policy) -> bool:
    """A route matches when each of its non-empty filters contains the divergence's value."""
    if rule.projects and _project(d) not in rule.projects:
        return False
    if rule.event_types:
        wanted = {t.lower() for t in rule.event_types}
        if d.event is None or policy.event_type(d.event).lower() not in wanted:
            return False
    return not rule.calendars or (d.event is not None and d.event.calendar_id in rule.calendars)


def _project(d: Divergence) -> str | None:
    if d.release is not None:
        return d.release.project
    # An orphan event naming a missing issue (PROJ-12) still says which project it is about.
    found = ISSUE_KEY.match(d.linked_release_id or "")
    return found.group(1) if found else None


def alert_for(
    divergence: Divergence,
    recipients: Sequence[str],
    slip: SlipLike | None = None,
    ticket_url: str | None = None,
    note: str | None = None,
) -> Alert:
    """The immediate alert for one divergence, keyed on its identity and fingerprint.

    `note` says what launchsync did about it on the calendar, if anything.
    """
    d = divergence
    lines = [f"**{headline(d)}** ({d.severity.value})", ""]
    lines += [f"- {line}" for line in _facts(d, slip)]
    lines += [f"- {_one_line(note)}"] if note else []
    lines += [f"- {line}" for line in _links(d, ticket_url)]
    lines += ["", _one_line(d.message)]
    return Alert(
        key=f"{d.identity}|{d.fingerprint}",
        recipients=tuple(recipients),
        subject=_subject(f"{d.severity.value}: {headline(d)}"),
        body="\n".join(lines) + "\n",
        severity=d.severity.value,
    )


def headline(d: Divergence) -> str:
    """What is wrong in one line: `ATL 2.1 launch blog post is 7 days before the release`."""
    title, release = _one_line(d.event.title) if d.event else "", d.release
    if d.kind is DivergenceKind.DATE_MISMATCH and release and release.date and d.event_date:
        return f"{title} is {_offset_phrase(d, release.date, d.event_date)}"
    if d.kind is DivergenceKind.MISSING_EVENT and release:
        return f"{release.label} ships {release.date} with no launch event"
    if d.kind is DivergenceKind.OVERDUE_RELEASE and release:
        return f"{release.label} is {_days(d.delta_days or 0)} overdue"
    if d.kind is DivergenceKind.RELEASE_UNSCHEDULED and release:
        return f"{title} is for {release.label}, which has no release date"
    if d.kind is DivergenceKind.ORPHAN_EVENT:
        if release is not None:
            return f"{title} is for {release.label}, which is archived"
        if d.linked_release_id:
            return f"{title} links to {d.linked_release_id}, which does not exist"
        return f"{title} is not linked to any release"
    return _one_line(d.message)


def _offset_phrase(d: Divergence, release_day: dt.date, event_day: dt.date) -> str:
    delta = d.delta_days or 0
    offset = (_expected(d) or event_day) - release_day
    if not offset.days:
        return f"{_days(delta)} {'before' if delta < 0 else 'after'} the release"
    before = ", before the release" if event_day < release_day else ""
    return f"{_days(delta)} {'early' if delta < 0 else 'late'}{before}"


def _expected(d: Divergence) -> dt.date | None:
    if d.event_date is None or d.delta_days is None:
        return None
    return d.event_date - dt.timedelta(days=d.delta_days)


def _facts(d: Divergence, slip: SlipLike | None) -> list[str]:
    """What moved (and who, when), the release, the event, and the expected date."""
    facts: list[str] = []
    if slip is not None:
        facts.append(f"**What moved:** {_one_line(_moved(d, slip))}")
    if d.release is not None:
        when = f"ships {d.release.date}" if d.release.date else "has no release date"
        facts.append(f"**Release:** {_one_line(d.release.label)} {when}")
    if d.event is not None:
        facts.append(f"**Launch event:** {_one_line(_one_line(d.event.title))} on {d.event_date}")
    expected = _expected(d)
    if expected is not None and d.release is not None and d.release.date is not None:
        offset = (expected - d.release.date).days
        delta = d.delta_days or 0
        facts.append(
            f"**Expected:** {expected} (release {offset:+d} days); "
            f"the event is {_days(delta)} {'early' if delta < 0 else 'late'}"
        )
    elif d.kind is DivergenceKind.OVERDUE_RELEASE:
        facts.append(f"**Overdue by:** {_days(d.delta_days or 0)}")
    return facts


def _moved(d: Divergence, slip: SlipLike) -> str:
    label = getattr(slip, "label", None) or (d.release.label if d.release else "the release")
    old, new = slip.old_date, slip.new_date
    if old is None:
        text = f"{label} was given the date {new}"
    elif new is None:
        text = f"{label} lost its date (was {old})"
    else:
        text = f"{label} moved from {old} to {new}"
    by, at = getattr(slip, "changed_by", None), getattr(slip, "changed_at", None)
    seen = getattr(slip, "seen_at", None)
    if by:
        text += f", by {_one_line(str(by))}"
    if isinstance(at, dt.date):
        text += f" on {_when(at)}"
    elif isinstance(seen, dt.datetime):
        # Nobody knows who moved it or when (Jira versions have no history): say when we saw.
        text += f", seen {_when(seen)}"
    return text


def _when(at: dt.date) -> str:
    if not isinstance(at, dt.datetime):
        return at.isoformat()
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC)  # one zone for every author's clock
    return at.strftime("%Y-%m-%d %H:%M %Z").strip()


def _links(d: Divergence, ticket_url: str | None) -> list[str]:
    links: list[str] = []
    if ticket_url:
        links.append(f"**Ticket:** {_link(_ticket_key(ticket_url), ticket_url)}")
    if d.release is not None and d.release.url:
        links.append(f"**Jira release:** {_link(d.release.label, d.release.url)}")
    if d.event is not None and d.event.url:
        links.append(f"**Calendar event:** {_link(d.event.title, d.event.url)}")
    return links


def _ticket_key(ticket_url: str) -> str:
    return ticket_url.rstrip("/").rsplit("/", 1)[-1]


def digest_for(entries: Iterable[DigestItem], recipients: Sequence[str], day: dt.date) -> Alert:
    """One message listing the non-critical divergences of a day for these recipients."""
    ordered = sorted(
        entries,
        key=lambda e: (e.divergence.severity.rank, e.divergence.sort_date, e.divergence.identity),
    )
    items = [e.divergence for e in ordered]
    counts = {s: sum(1 for d in items if d.severity is s) for s in Severity}
    tally = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    lines = [f"**launchsync digest for {day}:** {tally or 'nothing'}", ""]
    for entry in ordered:
        lines += _digest_entry(entry)
    worst = items[0].severity.value if items else Severity.INFO.value
    # Keyed on its entries too: what turns up after the day's digest went out goes in a
    # digest of its own, where a key of day and recipients alone would refuse it as sent.
    return Alert(
        key=f"digest|{day.isoformat()}|{recipients_hash(recipients)}|{_entries_hash(items)}",
        recipients=tuple(recipients),
        subject=_subject(f"digest {day}: {_count(len(items), 'divergence')} ({tally or 'none'})"),
        body="\n".join(lines) + "\n",
        severity=worst,
    )


DIGEST_ENTRY = "digest-entry|"  # prefix of the claims on digest entries (not deliveries)


def digest_entry_key(divergence: Divergence, recipient: str, day: dt.date) -> str:
    """The claim that puts one divergence in one recipient's digest of a day, at most once."""
    d, whom = divergence, recipients_hash([recipient])
    return f"{DIGEST_ENTRY}{day.isoformat()}|{d.identity}|{d.fingerprint}|{whom}"


def _entries_hash(divergences: Iterable[Divergence]) -> str:
    joined = "\n".join(sorted(f"{d.identity}|{d.fingerprint}" for d in divergences))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def _digest_entry(entry: DigestItem) -> list[str]:
    """A headline, then what moved, the dates, what launchsync did and the links, one line each."""
    d = entry.divergence
    details = [_moved(d, entry.slip)] if entry.slip is not None else []
    details += [_dates(d)] if d.release is not None or d.event is not None else []
    details += [entry.note] if entry.note else []
    refs = " · ".join(_refs(d, entry.ticket_url))
    details += [refs] if refs else []
    return [f"- **{d.severity.value}:** {headline(d)}", *(f"  - {_one_line(x)}" for x in details)]


def _refs(d: Divergence, ticket_url: str | None) -> list[str]:
    refs = [f"ticket {_link(_ticket_key(ticket_url), ticket_url)}"] if ticket_url else []
    refs += [_link("Jira release", d.release.url)] if d.release and d.release.url else []
    refs += [_link("calendar event", d.event.url)] if d.event and d.event.url else []
    return refs


def _dates(d: Divergence) -> str:
    """`ATL 2.1 ships 2026-12-08; ATL 2.1 blog on 2026-12-18`: both sides' dates."""
    parts: list[str] = []
    if d.release is not None:
        when = f"ships {d.release.date}" if d.release.date else "has no release date"
        parts.append(f"{d.release.label} {when}")
    if d.event is not None:
        parts.append(f"{d.event.title} on {d.event_date}")
    return "; ".join(parts)


def recipients_hash(recipients: Iterable[str]) -> str:
    """A short, order-independent hash of a recipient list (it never shows the targets)."""
    joined = "\n".join(sorted(set(recipients)))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def failure_alert(
    config_key: str, error_line: str, operators: Sequence[str], *, day: dt.date | None = None
) -> Alert:
    """Tell operators a sync failed: once per distinct error, or per day if `day` is given."""
    # `error_line` comes redacted (flows.redact): this module knows no secrets.
    line = _one_line(error_line)
    digest = hashlib.sha256(line.encode()).hexdigest()[:16]
    if day is not None:
        digest = f"{day.isoformat()}|{digest}"
    body = (
        f"**The launchsync sync for `{config_key}` failed.**\n\n"
        f"    {line}\n\n"
        "Fix what it names, then run `launchsync apply` again (`launchsync doctor` checks "
        "the config, credentials and reachability).\n"
    )
    return Alert(
        key=f"failure|{config_key}|{digest}",
        recipients=tuple(operators),
        subject=_subject(f"sync failed: {config_key}"),
        body=body,
        severity=Severity.CRITICAL.value,
    )


def blind_alert(config_key: str, blind: Blindness, operators: Sequence[str]) -> Alert:
    """Tell operators launchsync is blind to a source: once per episode (same `since`)."""
    episode = blind.since.isoformat() if blind.since else "never"
    body = (
        f"**launchsync is blind to `{blind.source}` for `{config_key}`.**\n\n"
        f"    {_one_line(blind.reason)}\n\n"
        "Until it can read it again, every launch shows as `unknown` and no tickets or "
        "alerts are sent. `launchsync doctor` shows the freshness of every source.\n"
    )
    return Alert(
        key=f"blind|{config_key}|{blind.source}|{episode}",
        recipients=tuple(operators),
        subject=_subject(f"blind to {blind.source}: {config_key}"),
        body=body,
        severity=Severity.CRITICAL.value,
    )


def _subject(text: str) -> str:
    subject = f"{PREFIX} {_one_line(text)}"
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 1] + "…"


def _one_line(text: str) -> str:
    """Titles come from people: no line breaks (a header), no runs of spaces."""
    return WHITESPACE.sub(" ", text).strip()


def _link(text: str, url: str) -> str:
    safe_url = url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{_one_line(text).replace('[', '(').replace(']', ')')}]({safe_url})"


def _days(n: int) -> str:
    return _count(abs(n), "day")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
