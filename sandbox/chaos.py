"""Chaos harness: the real sync, many times, under seeded faults, crashes and world changes.

    with ChaosWorld(workdir, state_url) as world:
        result = run_schedule(world, seed=7, runs=8)
        assert result.duplicate_tickets == 0 and result.missed == 0

Both emulators, the real `JiraTicketSink`, the real SMTP notifier (into an `Outbox`) and
the real state store; each run is a child process (`sandbox.chaos_child`) that may die at
a side-effect boundary. After every run the invariants are checked on what a user sees:
one open ticket per divergence (Jira, by marker label), no alert delivered twice (the
`.eml` files), and — once the world has settled — exactly the divergences the pure
reconciler finds in the emulators' data, each with its ticket (no divergence missed).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from connectors.alerts import recipients_hash
from connectors.jira_settings import MARKER_LABEL_PREFIX
from connectors.jira_tickets import marker_label
from connectors.state_store import StateStore
from flows.bootstrap import Sources, live_sources
from models.config import Config, parse_config
from models.dates import zone
from models.plan import Severity
from models.reconcile import reconcile
from sandbox.chaos_child import CRASH_EXIT, ChildSpec, CrashPlan, run_child, start_child
from sandbox.chaos_reference import differences, missed_intermediate, user_view
from sandbox.chaos_webhooks import Courier
from sandbox.chaos_world import (
    CLIENT_TIMEOUT,
    PROJECT,
    RECIPIENTS,
    FaultPlan,
    Mutation,
    calendars_seed,
    draw_crash,
    draw_faults,
    draw_kind,
    fault_label,
    jira_seed,
    mutate,
)
from sandbox.outbox import Outbox
from sandbox.run import RunningSandboxes, running_sandboxes, sandbox_config


@dataclass
class Check:
    """The invariants after one run; `settled` when the state equals the reference world."""

    duplicate_tickets: list[str] = field(default_factory=list)
    duplicate_alerts: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # expected, but no ticket or record
    lost_alerts: list[str] = field(default_factory=list)  # neither delivered nor reported

    @property
    def settled(self) -> bool:
        """True when nothing is duplicated, missing or stale."""
        return not (self.duplicate_tickets or self.duplicate_alerts or self.missed)


@dataclass
class RunRecord:
    """One run of a schedule, as the reliability table counts it."""

    kind: str
    exit_code: int
    crash: CrashPlan | None
    faults_hit: Counter[str]
    seconds: float
    check: Check

    @property
    def crashed(self) -> bool:
        """The child died at its planned boundary."""
        return self.exit_code == CRASH_EXIT


@dataclass
class ScheduleResult:
    """What one seeded schedule did and found."""

    seed: int
    runs: list[RunRecord] = field(default_factory=list)
    final: Check = field(default_factory=Check)
    unlike_reference: list[str] = field(default_factory=list)  # vs. the fault-free world
    told_only_without_faults: int = 0  # alerts about since-gone states that faults skipped
    reference_seconds: float = 0.0  # wall time spent in the fault-free world
    recoveries: list[float] = field(default_factory=list)
    unsettled_at_end: float | None = None

    @property
    def faults(self) -> Counter[str]:
        """Requests hit by each kind of fault, over all runs."""
        total: Counter[str] = Counter()
        for run in self.runs:
            total.update(run.faults_hit)
        return total

    @property
    def crashes(self) -> int:
        """Runs that died at a boundary."""
        return sum(run.crashed for run in self.runs)

    @property
    def duplicate_tickets(self) -> int:
        """Open tickets beyond one per identity, worst over all checks."""
        return max((len(c.duplicate_tickets) for c in self._checks()), default=0)

    @property
    def duplicate_alerts(self) -> int:
        """Alerts delivered more than once, worst over all checks."""
        return max((len(c.duplicate_alerts) for c in self._checks()), default=0)

    @property
    def missed(self) -> int:
        """Divergences without their ticket and record after the clean final run."""
        return len(self.final.missed) + len(self.final.lost_alerts)

    def _checks(self) -> list[Check]:
        return [*(run.check for run in self.runs), self.final]


class ChaosWorld:
    """Both emulators, an SMTP outbox and a config pointing the sync at them."""

    def __init__(self, workdir: Path, state_url: str, *, api_url: str | None = None) -> None:
        self.workdir = workdir
        self.state_url = state_url
        self.api_url = api_url
        self.today = dt.date.today()
        self.config_key = "chaos"
        self.journal = workdir / "alerts.jsonl"
        self._stack = ExitStack()
        self.running: RunningSandboxes
        self.outbox: Outbox
        self.config: Config
        self.config_yaml = ""
        self.courier: Courier
        self._sources: Sources | None = None
        self._gone_before = 0

    def __enter__(self) -> ChaosWorld:
        seed = self.workdir / "seed"
        seed.mkdir(parents=True, exist_ok=True)
        (seed / "jira.json").write_text(json.dumps(jira_seed(self.today)), encoding="utf-8")
        calendars = calendars_seed(self.today)
        (seed / "calendars.json").write_text(json.dumps(calendars), encoding="utf-8")
        self.running = self._stack.enter_context(running_sandboxes(seed))
        self.outbox = self._stack.enter_context(Outbox(self.workdir / "outbox"))
        self.courier = self._stack.enter_context(Courier(self.running.jira, self.config_key))
        config = sandbox_config(self.running, self.state_url)
        # Write-back on: runs move events with slipped releases or mark them tentative, so a
        # crash can fall between a calendar write and its alert (boundaries event_*).
        config["calendar"]["write_back"] = True
        config["alerts"] = {
            "smtp": self.outbox.url,
            "routes": [{"projects": [PROJECT], "notify": list(RECIPIENTS)}],
            "digest": False,  # every alert goes at once: each run's alerts are countable
            "fallback_to_owners": False,
        }
        self.config_yaml = yaml.safe_dump(config)
        self.config = parse_config(self.config_yaml, "chaos.yaml", {})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    # --- runs ----------------------------------------------------------------------------

    def spec(self, kind: str, release_ids: tuple[str, ...] = (), **options: Any) -> ChildSpec:
        """A child run of this world: kind "full", "plain" or "targeted" (at release_ids)."""
        handle, result = tempfile.mkstemp(dir=self.workdir, suffix=".json")
        os.close(handle)
        return ChildSpec(
            config_yaml=self.config_yaml,
            config_key=self.config_key,
            today=self.today.isoformat(),
            journal=str(self.journal),
            result=result,
            api_url=self.api_url,
            full=kind == "full",
            release_ids=release_ids if kind == "targeted" else (),
            **{"client_timeout": CLIENT_TIMEOUT, **options},
        )

    def run(self, spec: ChildSpec) -> int:
        """One sync in a child process; its exit status."""
        return run_child(spec)

    def settle(self, most: int = 3) -> int:
        """Clean runs until one writes nothing back to the calendar; the last exit status.

        An event moved with its release ends its divergence only on the run after.
        """
        for _ in range(most):
            spec = self.spec("plain")
            code = self.run(spec)
            result = self.result_of(spec) if code == 0 else None
            if code != 0 or result is None or not (result["outcome"] or {}).get("calendar"):
                return code
        return code

    def result_of(self, spec: ChildSpec) -> dict[str, Any] | None:
        """What a finished child reported (skipped, outcome counts, failures); None if it died."""
        text = Path(spec.result).read_text(encoding="utf-8")
        return dict(json.loads(text)) if text else None

    def run_together(self, specs: list[ChildSpec]) -> list[int]:
        """Start several syncs at once (separate processes); their exit statuses."""
        children = [start_child(spec) for spec in specs]
        for child in children:
            child.join(300)
        return [int(child.exitcode if child.exitcode is not None else -1) for child in children]

    def arm(self, plan: FaultPlan) -> None:
        """Arm faults in both emulators (and expire sync tokens) for the next run."""
        self._gone_before = self.running.google.faults.statuses[410]
        self.running.jira.faults.add(*plan.jira)
        self.running.google.faults.add(*plan.google)
        if plan.expire_tokens:
            self.running.google.expire_sync_tokens()

    def disarm(self, plan: FaultPlan) -> Counter[str]:
        """Clear what was not consumed; requests hit by each kind of fault."""
        hit: Counter[str] = Counter()
        for fault in [*plan.jira, *plan.google]:
            hit[fault_label(fault)] += fault.times or 1
        for injector in (self.running.jira.faults, self.running.google.faults):
            for left in injector.faults:
                hit[fault_label(left)] -= left.times or 1
            injector.clear()
        # Counted where the emulator answered 410: an expired token the run never sent is none.
        hit["410 stale sync token"] += self.running.google.faults.statuses[410] - self._gone_before
        return +hit

    # --- what a user sees --------------------------------------------------------------

    def check(self, *, final: bool = False) -> Check:
        """Tickets, e-mails and records against the reference world."""
        expected = self.expected()
        open_by_marker: dict[str, list[str]] = {}
        for key, issue in self.running.jira.issues.items():
            fields = issue["fields"]
            if fields["status"]["statusCategory"]["key"] == "done":
                continue
            for label in fields.get("labels") or []:
                if label.startswith(MARKER_LABEL_PREFIX):
                    open_by_marker.setdefault(label, []).append(key)
        found = Check(duplicate_alerts=self.duplicate_alerts())
        found.duplicate_tickets = [
            f"{label}: {keys}" for label, keys in open_by_marker.items() if len(keys) > 1
        ]
        wanted = {marker_label(identity): identity for identity in expected}
        with StateStore.open(self.state_url) as store:
            known = store.known_divergences(self.config_key)
            unconfirmed = set(store.unconfirmed_alerts(self.config_key))
        for label, identity in wanted.items():
            record = known.get(identity)
            if label not in open_by_marker:
                found.missed.append(f"{identity}: no open ticket")
            elif record is None or record.ticket not in open_by_marker[label]:
                found.missed.append(f"{identity}: not recorded with its open ticket")
            elif record.fingerprint != expected[identity]:
                found.missed.append(f"{identity}: recorded as {record.fingerprint}")
        stale = [keys for label, keys in open_by_marker.items() if label not in wanted]
        found.missed += [f"{keys}: open, but the divergence is gone" for keys in stale]
        found.missed += [f"{identity}: still recorded" for identity in set(known) - set(expected)]
        if final:
            sent = {line["key"] for line in self.journal_lines()}
            for identity, fingerprint in expected.items():
                for recipient in RECIPIENTS:
                    key = f"{identity}|{fingerprint}|{recipients_hash([recipient])}"
                    if key not in sent and key not in unconfirmed:
                        found.lost_alerts.append(f"{key}: never sent nor reported")
        return found

    def expected(self) -> dict[str, str]:
        """The reference world: identity -> fingerprint of every divergence that gets a ticket."""
        if self._sources is None:
            self._sources = live_sources(self.config)
        releases = self._sources.releases.releases(None)
        events = self._sources.calendar.events(None)
        plan = reconcile(
            list(releases.items),
            [e for e in events.items if e.live],
            self.config.policy,
            today=self.today,
            business_zone=zone(self.config.timezone),
            generated_at=dt.datetime.now(dt.UTC),
            previous={},
            problems=[*releases.problems, *events.problems],
        )
        return {d.identity: d.fingerprint for d in plan.divergences if d.severity != Severity.INFO}

    def journal_lines(self) -> list[dict[str, Any]]:
        """Every delivery the children journaled."""
        if not self.journal.exists():
            return []
        lines = self.journal.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def duplicate_alerts(self) -> list[str]:
        """Alert keys delivered twice, and e-mails beyond one per distinct alert key."""
        journal = self.journal_lines()
        keys = Counter(line["key"] for line in journal)
        dupes = [f"{key} sent {n} times" for key, n in keys.items() if n > 1]
        distinct: dict[tuple[str, str], set[str]] = {}
        for line in journal:
            for recipient in line["recipients"]:
                distinct.setdefault((line["subject"], recipient), set()).add(line["key"])
        mails: Counter[tuple[str, str]] = Counter()
        for path in self.outbox.messages():
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            mails[(str(message["subject"]), str(message["to"]))] += 1
        for pair, count in mails.items():
            if count > len(distinct.get(pair, ())):
                dupes.append(f"{pair[0]!r} to {pair[1]}: {count} e-mails")
        return dupes


def run_schedule(
    world: ChaosWorld,
    seed: int,
    runs: int,
    *,
    crash_chance: float = 0.5,
    most_faults: int = 4,
    reference: ChaosWorld | None = None,
) -> ScheduleResult:
    """`runs` seeded runs (mutate, arm faults, maybe crash, check), then a clean final run.

    With a `reference` world, each edit and run is replayed there without faults or
    crashes, and the two worlds' final user views are compared (`sandbox.chaos_reference`).
    """
    rng = random.Random(seed)
    result = ScheduleResult(seed)
    disturbed_at: float | None = None
    mutation = None
    for _ in range(runs):
        kind = draw_kind(rng)
        if rng.random() < 0.7:
            mutation = mutate(world.running, rng, world.today)
            if reference is not None:
                mutation.replay(reference.running)
        plan, crash = draw_faults(rng, most_faults), draw_crash(rng, crash_chance)
        if kind == "full":
            plan.expire_tokens = False  # a full read holds no token to expire
        targets, delivered = (
            _webhook_targets(world, rng, mutation) if kind == "targeted" else ((), Counter[str]())
        )
        if kind == "targeted" and not targets:
            kind = "plain"  # a webhook names what changed; nothing changed yet
        spec = world.spec(kind, targets, crash=crash)
        started = time.monotonic()
        world.arm(plan)
        code = world.run(spec)
        hit = world.disarm(plan) + delivered
        record = RunRecord(kind, code, crash, hit, time.monotonic() - started, world.check())
        result.runs.append(record)
        if (record.crashed or hit or code != 0) and disturbed_at is None:
            disturbed_at = started
        if disturbed_at is not None and record.check.settled:
            result.recoveries.append(time.monotonic() - disturbed_at)
            disturbed_at = None
        if reference is not None:
            result.reference_seconds += _replay_run(reference, kind, targets)
    code = world.settle()
    result.final = world.check(final=True)
    if disturbed_at is not None and result.final.settled:
        result.recoveries.append(time.monotonic() - disturbed_at)
    if code != 0:
        result.final.missed.append(f"the clean final run exited with {code}")
    if reference is not None:
        _compare_with(reference, world, result)
    return result


def _replay_run(reference: ChaosWorld, kind: str, targets: tuple[str, ...]) -> float:
    """The same run in the fault-free world; its seconds. It must succeed."""
    started = time.monotonic()
    code = reference.run(reference.spec(kind, targets))
    if code != 0:
        raise RuntimeError(f"a fault-free reference run exited with {code}; see its log")
    return time.monotonic() - started


def _compare_with(reference: ChaosWorld, world: ChaosWorld, result: ScheduleResult) -> None:
    """Settle the fault-free world too, then note where the two show users different things."""
    started = time.monotonic()
    if reference.settle() != 0:
        raise RuntimeError("the fault-free reference world's final run failed; see its log")
    result.reference_seconds += time.monotonic() - started
    faulty, clean = user_view(world), user_view(reference)
    result.unlike_reference = differences(faulty, clean)
    result.told_only_without_faults = missed_intermediate(faulty, clean)


def _webhook_targets(
    world: ChaosWorld, rng: random.Random, mutation: Mutation | None
) -> tuple[tuple[str, ...], Counter[str]]:
    """What a webhook-triggered run syncs: the releases of the receiver's new notices.

    Jira's deliveries reach the real receiver late, shuffled and some twice (`Courier`);
    a calendar change has no Jira webhook and Google's push names no release, so the
    release the person's last change concerns is added, as a Google push would trigger.
    """
    releases, delivered = world.courier.deliver(rng)
    changed = mutation.release_ids if mutation else ()
    return tuple(sorted({*releases, *changed})), delivered


def world_in(workdir: Path, state_url: str | None = None, api_url: str | None = None) -> ChaosWorld:
    """A ChaosWorld in `workdir` (state in a SQLite file there unless a URL is given)."""
    return ChaosWorld(workdir, state_url or f"sqlite:///{workdir / 'state.db'}", api_url=api_url)


__all__ = ["ChaosWorld", "Check", "RunRecord", "ScheduleResult", "run_schedule", "world_in"]
