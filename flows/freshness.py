"""The freshness watchdog's judgement for one config: is launchsync blind, and who hears.

Used by the sync (before it acts), the watchdog flow (when no sync runs at all) and
`launchsync doctor`. The rules themselves are pure, in models.freshness.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from connectors.alerts import blind_alert
from connectors.base import StateStore
from flows.acting import ActOutcome, send_once
from flows.bootstrap import Runtime
from models.config import Config
from models.errors import LaunchsyncError
from models.freshness import Blindness, FreshnessRules, assess


def rules_of(config: Config) -> FreshnessRules:
    """The config's freshness section as rules."""
    section = config.freshness
    return FreshnessRules(dt.timedelta(minutes=section.stale_after_minutes), section.failed_runs)


def lasting(
    store: StateStore, config: Config, config_key: str, now: dt.datetime, *, watchdog: bool
) -> list[Blindness]:
    """Blindness that has lasted: failures in a row, spent credentials, stale sources.

    The watchdog also looks at push channels and at when a sync last succeeded, which a
    running sync need not: it is the proof that syncs run.
    """
    return assess(
        store.source_health(config_key),
        rules_of(config),
        now,
        last_sync=store.last_success(config_key) if watchdog else None,
        check_sync=watchdog,
        channels=store.channels(config_key) if watchdog else (),
    )


def blind_now(lasting: Iterable[Blindness], failed_now: Iterable[Blindness]) -> list[Blindness]:
    """Every source the run cannot trust: lasting reasons first, else this run's failure."""
    merged = {b.source: b for b in failed_now}
    merged.update({b.source: b for b in lasting})
    return sorted(merged.values(), key=lambda b: b.source)


def alert_blindness(runtime: Runtime, blindness: Iterable[Blindness]) -> ActOutcome:
    """Alert the operators about lasting blindness, once per source and episode."""
    outcome = ActOutcome()
    operators = runtime.config.alerts.operators
    if not operators:
        return outcome
    for blind in blindness:
        try:
            send_once(blind_alert(runtime.config_key, blind, operators), runtime, outcome)
        except LaunchsyncError as exc:
            outcome.failures.append(runtime.redactor(f"blind alert {blind.source}: {exc}"))
    return outcome
