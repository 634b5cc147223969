"""The fault-free reference of a chaos schedule: what a user sees, compared across two worlds.

`run_schedule(world, ..., reference=clean)` replays every edit of the faulty world in a
second world (same seed, same edits, same runs) without faults or crashes. At the end the
two must show a user the same thing where faults may not change it: the open tickets per
divergence and what each last told, the calendar (write-back included), the state store's
open divergences, and the alerts about those divergences.

Some differences are legitimate and only checked one way. A run that a crash or a fault
stopped saw fewer intermediate states than its fault-free twin, so the faulty world may have
fewer closed tickets, fewer comments and fewer alerts about states that are gone — never
more, and never a ticket or alert about a state the fault-free world did not see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.jira_settings import MARKER_LABEL_PREFIX
from connectors.jira_tickets import FINGERPRINT_TAG
from connectors.state_store import StateStore
from sandbox.chaos_world import CALENDAR

if TYPE_CHECKING:
    from sandbox.chaos import ChaosWorld


@dataclass
class UserView:
    """One world as its users see it, keyed so that two worlds compare."""

    open_tickets: dict[str, str] = field(default_factory=dict)  # marker -> last told
    ticketed: set[str] = field(default_factory=set)  # markers that ever had a ticket
    comments: Counter[str] = field(default_factory=Counter)  # by marker
    calendar: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (start, status)
    divergences: dict[str, tuple[str, bool]] = field(default_factory=dict)  # -> (fp, ticket?)
    alerted: set[str] = field(default_factory=set)  # "identity|fingerprint" delivered
    unconfirmed: set[str] = field(default_factory=set)  # claimed, the send may have died


def user_view(world: ChaosWorld) -> UserView:
    """Tickets, calendar, state store and delivered alerts of `world`."""
    view = UserView()
    jira = world.running.jira
    for key, issue in jira.issues.items():
        fields = issue["fields"]
        marker = next(
            (x for x in fields.get("labels") or [] if x.startswith(MARKER_LABEL_PREFIX)), None
        )
        if marker is None:
            continue
        bodies = [str(fields.get("description") or "")]
        bodies += [str(c.get("body", "")) for c in jira.comments(key)]
        view.ticketed.add(marker)
        view.comments[marker] += len(bodies) - 1
        if fields["status"]["statusCategory"]["key"] != "done":
            view.open_tickets[marker] = _last_told(bodies)
    _, stored, _ = world.running.google.store.snapshot(CALENDAR)
    for event in stored:
        resource = event.resource
        start = resource.get("start") or {}
        status = str(resource.get("status"))
        # A cancelled event shows no date: whether write-back moved it before a person
        # cancelled it depends on which runs a crash skipped (seen in the 200-run bench).
        day = "-" if status == "cancelled" else str(start.get("date") or start.get("dateTime"))
        view.calendar[str(resource["id"])] = (day, status)
    with StateStore.open(world.state_url) as store:
        known = store.known_divergences(world.config_key)
        view.unconfirmed = {_alert_of(k) for k in store.unconfirmed_alerts(world.config_key)}
    view.divergences = {i: (r.fingerprint, r.ticket is not None) for i, r in known.items()}
    view.alerted = {_alert_of(line["key"]) for line in world.journal_lines()}
    return view


def _last_told(bodies: list[str]) -> str:
    """The message and fingerprint of the newest description or comment that carries one.

    A description also names the identity; a comment does not: only these two compare.
    """
    told = [body for body in bodies if FINGERPRINT_TAG in body]
    if not told:
        return ""
    message, _, tail = told[-1].partition("\n")
    fingerprint = tail.split(FINGERPRINT_TAG, 1)[1].split("\n", 1)[0].strip()
    return f"{message.strip()} [{fingerprint}]"


def _alert_of(key: str) -> str:
    """`identity|fingerprint` of a per-recipient alert key (its last part names recipients)."""
    return key.rsplit("|", 1)[0]


def differences(faulty: UserView, clean: UserView) -> list[str]:
    """Where the faulty world shows a user something the fault-free one does not."""
    found = _compare("open ticket", faulty.open_tickets, clean.open_tickets)
    found += _compare("calendar event", faulty.calendar, clean.calendar)
    found += _compare("open divergence", faulty.divergences, clean.divergences)
    found += [f"{m}: ticketed only under faults" for m in sorted(faulty.ticketed - clean.ticketed)]
    found += [
        f"{m}: {n} comments under faults, {clean.comments[m]} without"
        for m, n in sorted(faulty.comments.items())
        if n > clean.comments[m]
    ]
    told = faulty.alerted | faulty.unconfirmed
    found += [f"{a}: alerted only under faults" for a in sorted(told - clean.alerted)]
    current = {f"{i}|{fp}" for i, (fp, _) in clean.divergences.items()}
    found += [f"{a}: never alerted under faults" for a in sorted(current & clean.alerted - told)]
    return found


def missed_intermediate(faulty: UserView, clean: UserView) -> int:
    """Alerts about states now gone that only the fault-free world delivered."""
    current = {f"{i}|{fp}" for i, (fp, _) in clean.divergences.items()}
    return len(clean.alerted - faulty.alerted - faulty.unconfirmed - current)


def _compare(what: str, faulty: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    return [
        f"{what} {key}: {faulty.get(key)!r} under faults, {clean.get(key)!r} without"
        for key in sorted(faulty.keys() | clean.keys())
        if faulty.get(key) != clean.get(key)
    ]


__all__ = ["UserView", "differences", "missed_intermediate", "user_view"]
