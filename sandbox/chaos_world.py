"""The chaos harness's world: a seeded Jira + calendar, the people who change it, the faults.

Everything random draws from one `random.Random`, so a seed replays the same schedule:
the same moves of versions and events, the same faults on the same routes, the same crash
points. See `sandbox.chaos` for the runs and the invariants checked after each.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.chaos_child import BOUNDARIES, CrashPlan
from sandbox.faults import WRONG_SHAPE_BODY, Fault, FaultKind
from sandbox.run import RunningSandboxes

PROJECT = "PROJ"
CALENDAR = "marketing@example.com"
RECIPIENTS = ("launch@example.com", "pmm@example.com")
VERSION_IDS = tuple(str(101 + i) for i in range(5))
WRITES = {  # Jira writes whose reply a fault may lose after the server acted
    "create": ("POST", r"/issue$"),
    "comment": ("POST", r"/comment$"),
    "transition": ("POST", r"/transitions$"),
    "property": ("PUT", r"/properties/"),
}
# Requests give up after CLIENT_TIMEOUT (the child composes its adapters so); a timeout
# fault holds a request for HOLD_SECONDS, so each costs the client about two seconds
# (a margin for a loaded two-core machine, where an answer can take over a second).
CLIENT_TIMEOUT = 2.0
HOLD_SECONDS = 3.0
LABELS = {
    FaultKind.SLOW: "slow response",
    FaultKind.DROP: "dropped connection",
    FaultKind.MALFORMED: "truncated JSON",
    FaultKind.TIMEOUT: "timeout",
}
READ_FAULTS = ("429", "5xx", "slow", "drop", "malformed", "timeout", "wrong_shape", "html")
LIST_BODY = '["oops"]'  # a list where an object is expected
READS = {  # reads the sync makes (faults here never act twice)
    "versions": ("GET", r"/project/[^/]+/versions?$"),
    "search": ("*", r"/search"),
    "issue": ("GET", r"/issue/[^/]+$"),
    "events": ("GET", r"/events$"),
}


def jira_seed(today: dt.date) -> dict[str, Any]:
    """Five versions of PROJ between 10 and 70 days out (some inside the notice window)."""
    versions = [
        {
            "id": vid,
            "name": f"1.{i}",
            "archived": False,
            "released": False,
            "releaseDate": (today + dt.timedelta(days=10 + 15 * i)).isoformat(),
        }
        for i, vid in enumerate(VERSION_IDS)
    ]
    return {
        "deployment": "Cloud",
        "projects": [{"key": PROJECT, "id": "1", "name": "Project", "versions": versions}],
        "issues": [],
    }


def launch_event(event_id: str, version_id: str, name: str, day: dt.date) -> dict[str, Any]:
    """An all-day launch blog post linked to a version by extended property."""
    return {
        "id": event_id,
        "summary": f"{PROJECT} {name} blog",
        "status": "confirmed",
        "start": {"date": day.isoformat()},
        "end": {"date": (day + dt.timedelta(days=1)).isoformat()},
        "organizer": {"email": RECIPIENTS[1]},
        "extendedProperties": {"private": {"jiraVersionId": version_id}},
    }


def calendars_seed(today: dt.date) -> dict[str, list[dict[str, Any]]]:
    """Events for four of the five versions: two aligned, two off; one version has none."""
    seed = jira_seed(today)["projects"][0]["versions"]
    events = []
    for i, version in enumerate(seed[:4]):
        day = dt.date.fromisoformat(version["releaseDate"]) + dt.timedelta(days=(0, 3, 0, -4)[i])
        events.append(launch_event(f"ev{version['id']}a", version["id"], version["name"], day))
    return {CALENDAR: events}


@dataclass
class Mutation:
    """What a person changed between two runs, the releases it concerns, and the change
    itself, so a fault-free reference world can make the very same edit."""

    description: str
    release_ids: tuple[str, ...]
    replay: Callable[[RunningSandboxes], object] = lambda running: None


def mutate(running: RunningSandboxes, rng: random.Random, today: dt.date) -> Mutation:
    """One change a person makes (move a version or an event, cancel or add an event), made."""
    mutation = draw_mutation(running, rng, today)
    mutation.replay(running)
    return mutation


def draw_mutation(running: RunningSandboxes, rng: random.Random, today: dt.date) -> Mutation:
    """The change a person makes next, drawn from the world as it is; not yet made."""
    jira, google = running.jira, running.google
    vid = rng.choice(VERSION_IDS)
    version = jira.versions[vid]
    release_day = dt.date.fromisoformat(version["releaseDate"])
    _, stored, _ = google.store.snapshot(CALENDAR)
    live = [e.resource for e in stored if e.resource.get("status") != "cancelled"]
    mine = [e for e in live if e["extendedProperties"]["private"]["jiraVersionId"] == vid]
    choice = rng.choice(("move_version", "move_event", "align_event", "cancel", "add"))
    if choice == "move_version" or (choice in ("move_event", "align_event", "cancel") and not mine):
        day = _within(today, release_day + dt.timedelta(days=rng.choice((-5, -2, 2, 4, 7))))
        return Mutation(f"version {vid} -> {day}", (vid,), lambda r: r.jira.move_version(vid, day))
    if choice in ("move_event", "align_event"):
        event_id = str(rng.choice(mine)["id"])
        shift = 0 if choice == "align_event" else rng.choice((-3, -1, 1, 5))
        day = _within(today, release_day + dt.timedelta(days=shift))
        return Mutation(
            f"event {event_id} -> {day}",
            (vid,),
            lambda r: r.google.move_event(CALENDAR, event_id, day),
        )
    if choice == "cancel":
        event_id = str(rng.choice(mine)["id"])
        return Mutation(
            f"event {event_id} cancelled",
            (vid,),
            lambda r: r.google.cancel_event(CALENDAR, event_id),
        )
    event_id = f"ev{vid}{rng.randrange(10**6):06d}"
    day = _within(today, release_day + dt.timedelta(days=rng.choice((0, 0, 2))))
    added = launch_event(event_id, vid, str(version["name"]), day)
    return Mutation(
        f"event {event_id} added on {day}",
        (vid,),
        lambda r: r.google.insert_event(CALENDAR, dict(added)),
    )


def _within(today: dt.date, day: dt.date) -> dt.date:
    """Keep dates ahead of today and inside the 90-day horizon, so every case stays live."""
    return min(max(day, today + dt.timedelta(days=2)), today + dt.timedelta(days=85))


@dataclass
class FaultPlan:
    """The faults armed before one run: per emulator, plus whether sync tokens expire."""

    jira: list[Fault] = field(default_factory=list)
    google: list[Fault] = field(default_factory=list)
    expire_tokens: bool = False

    def kinds(self) -> Counter[str]:
        """How many faults of each kind were armed (before any was consumed)."""
        counted = Counter(fault_label(f) for f in [*self.jira, *self.google])
        if self.expire_tokens:
            counted["sync tokens expired"] += 1  # set up; hits are counted as 410s
        return counted


def fault_label(fault: Fault) -> str:
    """The kind a reliability table reports a fault under."""
    if fault.after:
        return (
            "act, then time out" if fault.kind is FaultKind.TIMEOUT else "act, then lose the reply"
        )
    if fault.kind is FaultKind.STATUS:
        return "429 Retry-After" if fault.status == 429 else "5xx"
    if fault.kind is FaultKind.HTML:
        return f"HTML error page ({fault.status})"
    if fault.kind is FaultKind.WRONG_SHAPE:
        return "wrong-shaped JSON " + ("(a list)" if fault.body.startswith("[") else "(strings)")
    return LABELS[fault.kind]


def draw_faults(rng: random.Random, most: int = 4) -> FaultPlan:
    """Up to `most` faults on random routes of both emulators (each hits 1-2 requests)."""
    plan = FaultPlan(expire_tokens=rng.random() < 0.2)
    for _ in range(rng.randint(0, most)):
        times = rng.choice((1, 1, 2))
        if rng.random() < 0.35:
            name, (method, path) = rng.choice(sorted(WRITES.items()))
            kind = rng.choice((FaultKind.STATUS, FaultKind.DROP, FaultKind.TIMEOUT))
            plan.jira.append(
                Fault(
                    kind=kind,
                    method=method,
                    path=path,
                    after=True,
                    times=times,
                    delay_seconds=HOLD_SECONDS,
                )
            )
            continue
        name, (method, path) = rng.choice(sorted(READS.items()))
        fault = _read_fault(rng, method, path, times)
        if name == "events":
            plan.google.append(fault)
        else:
            plan.jira.append(fault)
    return plan


def _read_fault(rng: random.Random, method: str, path: str, times: int) -> Fault:
    kind = rng.choice(READ_FAULTS)
    if kind == "timeout":
        return Fault(
            kind=FaultKind.TIMEOUT, method=method, path=path, delay_seconds=HOLD_SECONDS, times=1
        )
    if kind == "wrong_shape":
        body = rng.choice((WRONG_SHAPE_BODY, LIST_BODY))
        return Fault(kind=FaultKind.WRONG_SHAPE, method=method, path=path, body=body, times=times)
    if kind == "html":
        status = rng.choice((200, 502))
        return Fault(kind=FaultKind.HTML, method=method, path=path, status=status, times=times)
    if kind == "429":
        return Fault(
            kind=FaultKind.STATUS,
            method=method,
            path=path,
            status=429,
            retry_after=0.2,
            times=times,
        )
    if kind == "5xx":
        status = rng.choice((500, 502, 503, 504))
        return Fault(kind=FaultKind.STATUS, method=method, path=path, status=status, times=times)
    if kind == "slow":
        delay = round(rng.uniform(0.2, 1.0), 2)
        return Fault(kind=FaultKind.SLOW, method=method, path=path, delay_seconds=delay, times=1)
    fault_kind = FaultKind.DROP if kind == "drop" else FaultKind.MALFORMED
    return Fault(kind=fault_kind, method=method, path=path, times=times)


def draw_crash(rng: random.Random, chance: float = 0.5) -> CrashPlan | None:
    """A boundary to die at in this run (it may not be reached), or None."""
    if rng.random() >= chance:
        return None
    return CrashPlan(rng.choice(BOUNDARIES), nth=rng.choice((1, 1, 2)))


def draw_kind(rng: random.Random) -> str:
    """Scheduled (full), on demand (plain) or webhook-triggered (targeted)."""
    return rng.choice(("plain", "plain", "full", "targeted"))
