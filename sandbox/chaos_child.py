"""One sync in a child process that can die for real at a chosen side-effect boundary.

The chaos harness (`sandbox.chaos`) forks a child per run from a forkserver that has the
flow modules preloaded (a fork costs milliseconds; a fresh interpreter costs seconds).
The child builds the real adapters with `open_runtime`, wraps the ticket sink, notifier
and state store in thin pass-throughs that count each boundary they pass, and calls
`os._exit` when the planned one is reached: no `finally`, no lock release, no flush.
Every alert the real notifier delivered is appended to a journal first, so the parent can
tell a duplicate delivery from two different alerts with the same subject.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.base import Alert, Batch, Notifier, TicketRef, TicketSink, WriteBack
from connectors.google_calendar import GoogleCalendarSource
from connectors.state_seen import NO_CHANGES, Changes, Slip
from connectors.state_store import StateStore
from models.event import LaunchEvent
from models.plan import Divergence
from models.release import Release

if TYPE_CHECKING:
    from flows.bootstrap import Runtime

CRASH_EXIT = 86  # the exit status of a child killed on purpose at a boundary
# Where a real process may die between two side effects (flows/fetching.py's state writes,
# then flows/acting.py's order).
BOUNDARIES = (
    "dates_recorded",  # after the slips are stored, before the snapshot is
    "snapshot_applied",  # after the snapshot is stored, before the cursors are
    "cursors_saved",  # after the cursors are stored, before anything is acted on
    "ticket_opened",  # after the ticket exists, before its alert
    "alert_claimed",  # between claim and send
    "alert_sent",  # after the e-mail left, before it is confirmed and recorded
    "commented",  # after a comment, before its alert
    "resolved",  # after the resolve transition, before the divergence is forgotten
    "recorded",  # after one divergence is recorded, before the next is acted on
    "event_moved",  # after write-back moved an event with its release, before the alert
    "event_marked",  # after write-back marked an event tentative, before the alert
)
PRELOAD = ["sandbox.chaos", "flows.sync", "flows.live", "connectors.jira_tickets"]


@dataclass(frozen=True)
class CrashPlan:
    """Die the `nth` time the run passes `boundary`."""

    boundary: str
    nth: int = 1


@dataclass(frozen=True)
class ChildSpec:
    """Everything one child run needs; plain data, so it pickles to the forkserver."""

    config_yaml: str
    config_key: str
    today: str  # ISO date: the reconciler's today
    journal: str  # file the child appends delivered alerts to, one JSON line each
    result: str  # file the child writes its outcome summary to
    api_url: str | None  # the Prefect API the flow reports to
    full: bool = False
    release_ids: tuple[str, ...] = ()
    lock_wait_seconds: float = 0.0
    crash: CrashPlan | None = None
    client_timeout: float | None = None  # seconds per HTTP request to Jira and Google


class Boundaries:
    """Counts boundaries passed and kills the process at the planned one."""

    def __init__(self, plan: CrashPlan | None) -> None:
        self.plan = plan
        self.passed_count: Counter[str] = Counter()

    def passed(self, name: str) -> None:
        """Note one pass; `os._exit` if it is the planned crash."""
        self.passed_count[name] += 1
        if self.plan and self.plan.boundary == name and self.passed_count[name] == self.plan.nth:
            os._exit(CRASH_EXIT)  # a real crash: no cleanup, the lock row stays behind


class CrashingSink:
    """The real ticket sink, with a possible death after each write."""

    def __init__(self, inner: TicketSink, boundaries: Boundaries) -> None:
        self.inner, self.boundaries = inner, boundaries

    def open(self, divergence: Divergence) -> TicketRef:
        """Open (or find) the ticket, then maybe die."""
        ref = self.inner.open(divergence)
        self.boundaries.passed("ticket_opened")
        return ref

    def comment(self, ticket: str, divergence: Divergence) -> bool:
        """Comment, then maybe die."""
        said = self.inner.comment(ticket, divergence)
        self.boundaries.passed("commented")
        return said

    def resolve(self, ticket: str, identity: str) -> bool:
        """Resolve, then maybe die."""
        moved = self.inner.resolve(ticket, identity)
        self.boundaries.passed("resolved")
        return moved

    def find(self, identity: str) -> str | None:
        """Look the ticket up (a read: no boundary)."""
        return self.inner.find(identity)

    def url(self, ticket: str) -> str:
        """The ticket's page (no write: no boundary)."""
        return self.inner.url(ticket)


class JournalingNotifier:
    """The real notifier; each delivery is journaled before the process may die."""

    def __init__(self, inner: Notifier, boundaries: Boundaries, journal: Path) -> None:
        self.inner, self.boundaries, self.journal = inner, boundaries, journal

    def send(self, alert: Alert) -> None:
        """Deliver, journal, then maybe die."""
        self.inner.send(alert)
        line = {"key": alert.key, "subject": alert.subject, "recipients": list(alert.recipients)}
        with self.journal.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
            out.flush()
            os.fsync(out.fileno())
        self.boundaries.passed("alert_sent")


class CrashingStore(StateStore):
    """The real SQL state store, with a possible death after a claim or a record."""

    boundaries: Boundaries = Boundaries(None)

    def claim_alert(self, config_key: str, alert_key: str, recipients: Any) -> bool:
        """Claim, then maybe die before the send."""
        claimed = super().claim_alert(config_key, alert_key, recipients)
        if claimed:
            self.boundaries.passed("alert_claimed")
        return claimed

    def record_divergence(
        self, config_key: str, identity: str, fingerprint: str, ticket: str | None
    ) -> None:
        """Record, then maybe die before the next divergence."""
        super().record_divergence(config_key, identity, fingerprint, ticket)
        self.boundaries.passed("recorded")

    def record_release_dates(
        self,
        config_key: str,
        releases: Iterable[Release],
        seen_at: dt.datetime,
        changes: Changes = NO_CHANGES,
    ) -> list[Slip]:
        """Note the dates (and slips), then maybe die before the snapshot is stored."""
        slips = super().record_release_dates(config_key, releases, seen_at, changes)
        self.boundaries.passed("dates_recorded")
        return slips

    def apply_snapshot(
        self,
        config_key: str,
        releases: Iterable[Release],
        events: Iterable[LaunchEvent],
        *,
        complete: bool,
    ) -> None:
        """Store the snapshot, then maybe die before the cursors are saved."""
        super().apply_snapshot(config_key, releases, events, complete=complete)
        self.boundaries.passed("snapshot_applied")

    def save_cursors(self, config_key: str, values: Mapping[str, str]) -> None:
        """Save the cursors, then maybe die before anything is acted on."""
        super().save_cursors(config_key, values)
        self.boundaries.passed("cursors_saved")


class CrashingCalendar:
    """The real Google calendar source, with a possible death after each write-back."""

    def __init__(self, inner: GoogleCalendarSource, boundaries: Boundaries) -> None:
        self.inner, self.boundaries = inner, boundaries

    def events(self, cursor: Mapping[str, str] | None = None) -> Batch[LaunchEvent]:
        """Read (no write: no boundary)."""
        return self.inner.events(cursor)

    def move_event(
        self, calendar_id: str, event_id: str, new_date: dt.date, etag: str | None = None
    ) -> WriteBack:
        """Move the event with its release, then maybe die."""
        done = self.inner.move_event(calendar_id, event_id, new_date, etag)
        self.boundaries.passed("event_moved")
        return done

    def mark_tentative(self, calendar_id: str, event_id: str, etag: str | None = None) -> WriteBack:
        """Mark the event tentative, then maybe die."""
        done = self.inner.mark_tentative(calendar_id, event_id, etag)
        self.boundaries.passed("event_marked")
        return done


def child_main(spec: ChildSpec) -> None:
    """The child's body: one sync with the real adapters, wrapped for crashes."""
    from prefect import flow
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.bootstrap import open_runtime
    from flows.redact import Redactor
    from flows.sync import SyncOptions, SyncReport, run_sync
    from models.config import parse_config

    @flow(name="chaos-sync", validate_parameters=False)
    def chaos_sync(runtime: Any, options: Any) -> SyncReport:
        return run_sync(runtime, options)

    api = {PREFECT_API_URL: spec.api_url}
    settings = temporary_settings(api) if spec.api_url else nullcontext()
    config = parse_config(spec.config_yaml, "chaos.yaml", {})
    boundaries = Boundaries(spec.crash)
    options = SyncOptions(
        full=spec.full,
        release_ids=spec.release_ids,
        today=dt.date.fromisoformat(spec.today),
        lock_wait_seconds=spec.lock_wait_seconds,
    )
    with settings, open_runtime(config, spec.config_key, Redactor()) as built:
        runtime = with_timeout(built, spec.client_timeout) if spec.client_timeout else built
        store = CrashingStore.open(config.state.url)
        assert isinstance(store, CrashingStore)  # `open` is typed as the base class's
        store.boundaries = boundaries
        calendar = runtime.sources.calendar
        if isinstance(calendar, GoogleCalendarSource):
            crashing = CrashingCalendar(calendar, boundaries)
            sources = dataclasses.replace(runtime.sources, calendar=crashing)
            runtime = dataclasses.replace(runtime, sources=sources)
        assert runtime.sink is not None and runtime.notifier is not None
        wrapped = dataclasses.replace(
            runtime,
            store=store,
            sink=CrashingSink(runtime.sink, boundaries),
            notifier=JournalingNotifier(runtime.notifier, boundaries, Path(spec.journal)),
        )
        try:
            report = chaos_sync(wrapped, options)
        finally:
            store.close()
    outcome = report.outcome.summary() if report.outcome else None
    failures = report.outcome.failures if report.outcome else []
    Path(spec.result).write_text(
        json.dumps({"skipped": report.skipped, "outcome": outcome, "failures": failures}),
        encoding="utf-8",
    )


def with_timeout(runtime: Runtime, seconds: float) -> Runtime:
    """The runtime with Jira and Google adapters whose requests give up after `seconds`.

    The config has no timeout key (30 s suits real servers); a chaos run that waited 30 s
    per injected timeout could afford few of them, so this harness composes its own.
    """
    from connectors.google_auth import GoogleCalendarSettings
    from connectors.google_calendar import GoogleCalendarSource
    from connectors.jira import JiraReleaseSource
    from connectors.jira_settings import JiraSettings
    from connectors.jira_tickets import JiraTicketSink
    from flows.bootstrap import Sources

    config = runtime.config
    jira = dataclasses.replace(JiraSettings.from_config(config.jira), timeout=seconds)
    calendar = runtime.sources.calendar
    if config.calendar.kind == "google":
        google = GoogleCalendarSettings.from_config(config.calendar)
        calendar = GoogleCalendarSource(dataclasses.replace(google, timeout=seconds))
    sources = Sources(releases=JiraReleaseSource(jira), calendar=calendar)
    return dataclasses.replace(runtime, sources=sources, sink=JiraTicketSink(jira))


def start_child(spec: ChildSpec) -> multiprocessing.process.BaseProcess:
    """Fork a child (from the preloaded forkserver) running `spec`; it is started."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    process = context.Process(target=child_main, args=(spec,), daemon=False)
    process.start()
    return process


def run_child(spec: ChildSpec, timeout: float = 300.0) -> int:
    """Run one child to its end; its exit status (CRASH_EXIT when it died on purpose)."""
    process = start_child(spec)
    process.join(timeout)
    if process.exitcode is None:
        process.kill()
        process.join()
        raise TimeoutError(f"chaos child did not finish in {timeout:.0f}s")
    return int(process.exitcode)
