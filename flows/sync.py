"""The sync flow: fetch releases, fetch events, reconcile, act — a fixed set of tasks.

Reads retry (they are idempotent); the act step retries once because every side effect in
it is idempotent (markers on tickets, claims on alerts). Two runs of one config never both
act: the run takes a lock in the state store and a second run exits cleanly.
"""

# No `from __future__ import annotations`: `launchsync serve` pickles the flow function
# by value, and its parameter annotations must be objects, not names to look up.
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows import progress
from flows.acting import ActOutcome, act
from flows.artifacts import publish, publish_timeline
from flows.bootstrap import Runtime, config_key_of, load_with_secrets, open_runtime
from flows.fetching import Fetched, fetch
from flows.freshness import alert_blindness, blind_now, lasting
from flows.operators import tell_operators
from flows.planning import today_in
from flows.timeline import build_timeline
from models.dates import zone
from models.errors import LaunchsyncError
from models.freshness import Blindness
from models.plan import Plan, Severity
from models.reconcile import reconcile

# The holder renews its lock every LOCK_RENEW_SECONDS; a holder that died on any host frees
# it LOCK_TTL later (one on this host at once).
LOCK_TTL = dt.timedelta(minutes=2)
LOCK_RENEW_SECONDS = 30.0
LOCK_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class SyncOptions:
    """How one run behaves: the flow's parameters."""

    dry_run: bool = False
    full: bool = False
    release_ids: tuple[str, ...] = ()
    today: dt.date | None = None
    lock_wait_seconds: float = 0.0
    now: dt.datetime | None = None  # the clock for slips seen and digest timing; tests set it


@dataclass
class SyncReport:
    """What a run found and did."""

    plan: Plan | None = None
    outcome: ActOutcome | None = None
    slips: list[Any] = field(default_factory=list)
    skipped: str | None = None

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary (the flow's return value)."""
        if self.plan is None:
            return {"skipped": self.skipped}
        counts = {s.value: self.plan.count(s) for s in Severity}
        return {
            "today": str(self.plan.today),
            "divergences": len(self.plan.divergences),
            "by_severity": counts,
            "slips": len(self.slips),
            "status": self.plan.status,
            "actions": self.outcome.summary() if self.outcome else None,
        }


@task(name="fetch", retries=2, retry_delay_seconds=5, cache_policy=NONE)
def fetch_task(runtime: Runtime, options: SyncOptions) -> Fetched:
    """Read releases and events (incrementally unless full), merge, note slips."""
    now = options.now or dt.datetime.now(dt.UTC)
    return fetch(runtime, full=options.full, persist=not options.dry_run, now=now)


@task(name="reconcile", cache_policy=NONE)
def reconcile_task(
    runtime: Runtime, fetched: Fetched, today: dt.date, blind: list[Blindness]
) -> Plan:
    """The pure reconciler over what was fetched and what the store knew."""
    config = runtime.config
    return reconcile(
        fetched.releases,
        fetched.events,
        config.policy,
        today=today,
        business_zone=zone(config.timezone),
        generated_at=dt.datetime.now(dt.UTC),
        previous=runtime.store.known_divergences(runtime.config_key),
        problems=fetched.problems,
        blind=blind,
    )


@task(name="act", retries=1, retry_delay_seconds=5, cache_policy=NONE)
def act_task(
    runtime: Runtime, plan: Plan, fetched: Fetched, options: SyncOptions, lasting: list[Blindness]
) -> ActOutcome:
    """Tickets, alerts and records, each once; operators hear of lasting blindness."""
    outcome = act(
        plan, runtime, slips=fetched.slips, release_ids=options.release_ids, now=options.now
    )
    told = alert_blindness(runtime, lasting)
    outcome.alerted.extend(told.alerted)
    outcome.failures.extend(told.failures)
    return outcome


def run_sync(runtime: Runtime, options: SyncOptions) -> SyncReport:
    """One sync over built adapters; call inside a flow (tests may pass fakes of ports).

    If another run of the same config holds the lock, wait up to lock_wait_seconds for it,
    then stop cleanly: the other run reads the same changes.
    """
    logger = get_run_logger()
    from connectors.state_store import process_owner

    # host:pid lets the next run take over at once if this process dies holding the lock.
    owner = process_owner(str(id(options)))
    deadline = time.monotonic() + options.lock_wait_seconds
    while True:
        lock = runtime.store.lock(runtime.config_key, owner, LOCK_TTL, LOCK_RENEW_SECONDS)
        with lock as acquired:
            if acquired:
                return _sync_locked(runtime, options, logger)
        if time.monotonic() >= deadline:
            logger.info("another sync of %s is running; this one stops here", runtime.config_key)
            return SyncReport(skipped="another sync of this config holds the lock")
        time.sleep(LOCK_POLL_SECONDS)


def _sync_locked(runtime: Runtime, options: SyncOptions, logger: Any) -> SyncReport:
    started = dt.datetime.now(dt.UTC)
    if options.dry_run:
        return _sync_steps(runtime, options, logger)  # a dry run leaves no trace
    try:
        report = _sync_steps(runtime, options, logger)
    except Exception:
        _record(runtime, started, "failed", {})
        raise
    failed = report.outcome is not None and bool(report.outcome.failures)
    blind = report.plan is not None and bool(report.plan.blind)
    # A blind run is no proof that launches are in step: it must not count as a success.
    status = "blind" if blind else "partial" if failed else "success"
    _record(runtime, started, status, report.summary())
    return report


def _record(runtime: Runtime, started: dt.datetime, status: str, summary: dict[str, Any]) -> None:
    # Run history feeds freshness checks: when did this config last sync cleanly?
    now = dt.datetime.now(dt.UTC)
    runtime.store.record_run(runtime.config_key, started, now, status, summary)


def _sync_steps(runtime: Runtime, options: SyncOptions, logger: Any) -> SyncReport:
    today = options.today or today_in(runtime.config)
    fetched = fetch_task(runtime, options)
    runtime.progress("reconciling")
    store, config, key = runtime.store, runtime.config, runtime.config_key
    lasting_blind = lasting(store, config, key, dt.datetime.now(dt.UTC), watchdog=False)
    plan = reconcile_task(runtime, fetched, today, blind_now(lasting_blind, fetched.failed))
    outcome = None
    if not options.dry_run:
        runtime.progress(f"acting on {len(plan.actions)} planned actions")
        outcome = act_task(runtime, plan, fetched, options, lasting_blind)
    publish(
        plan,
        outcome,
        fetched.slips,
        config_key=runtime.config_key,
        dry_run=options.dry_run,
        redactor=runtime.redactor,
    )
    rows = build_timeline(
        fetched.releases,
        fetched.events,
        runtime.config.policy,
        zone(runtime.config.timezone),
        plan,
        runtime.store.slip_history(runtime.config_key),
    )
    publish_timeline(
        rows,
        plan,
        config_key=runtime.config_key,
        html=runtime.config.report.html,
        redactor=runtime.redactor,
    )
    _log(logger, plan, outcome, fetched)
    return SyncReport(plan=plan, outcome=outcome, slips=fetched.slips)


def _log(logger: Any, plan: Plan, outcome: ActOutcome | None, fetched: Fetched) -> None:
    logger.info(
        "%d releases, %d events, %d divergences, %d slips since last run",
        len(fetched.releases),
        len(fetched.events),
        len(plan.divergences),
        len(fetched.slips),
    )
    for slip in fetched.slips:
        logger.info("slip: %s moved %s -> %s", slip.label, slip.old_date, slip.new_date)
    for problem in plan.problems:
        logger.warning("skipped %s: %s", problem.item, problem.error)
    for blind in plan.blind:
        logger.error(
            "blind to %s: %s; launches are unknown, nothing acted on", blind.source, blind.reason
        )
    if outcome is not None:
        logger.info("acted: %s", outcome.summary())
        for failure in outcome.failures:
            logger.error("failed: %s", failure)


@flow(
    name="sync-launch-calendar",
    log_prints=True,
    on_failure=[tell_operators],
    on_crashed=[tell_operators],
)
def sync_launch_calendar(
    config: str = "launchsync.yaml",
    dry_run: bool = False,
    full: bool = False,
    release_ids: list[str] | None = None,
    today: dt.date | None = None,
    wait_for_lock_seconds: float = 60.0,
) -> SyncReport:
    """Reconcile Jira releases with the marketing calendar and act on divergences.

    config: path of the config YAML, or `block:<name>` of a Prefect Secret block holding
    it. dry_run: plan only. full: re-read everything instead
    of reading changes since the last run. release_ids: act only on these releases.
    wait_for_lock_seconds: how long to wait while another sync of this config runs.
    """
    settings, redactor = load_with_secrets(config)
    redactor.install()
    options = SyncOptions(
        dry_run=dry_run,
        full=full,
        release_ids=tuple(release_ids or ()),
        today=today,
        lock_wait_seconds=wait_for_lock_seconds,
    )
    key = config_key_of(config)
    with open_runtime(settings, key, redactor, progress=progress.PROGRESS.get()) as runtime:
        report = run_sync(runtime, options)
    if report.outcome and report.outcome.failures:
        failures = report.outcome.failures
        raise SyncFailed(
            redactor(f"{len(failures)} divergences could not be acted on; first: {failures[0]}")
        )
    return report


class SyncFailed(LaunchsyncError):
    """Some divergences could not be acted on; the run fails so operators hear of it."""
