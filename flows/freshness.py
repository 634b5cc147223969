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
from models.freshness import (
    GOOGLE_WEBHOOKS,
    JIRA_WEBHOOKS,
    PUSH,
    Blindness,
    FreshnessRules,
    assess,
)


def rules_of(config: Config) -> FreshnessRules:
    """The config's freshness section as rules."""
    section = config.freshness
    return FreshnessRules(
        dt.timedelta(minutes=section.stale_after_minutes),
        section.failed_runs,
        dt.timedelta(minutes=section.webhook_silence_minutes),
    )


def webhook_sources(config: Config) -> set[str]:
    """The sources whose changes webhooks announce: `jira`, `google:<calendar id>`."""
    hooks = config.webhooks
    watched = {JIRA_WEBHOOKS} if hooks.jira_secret is not None else set()
    if hooks.google_token is not None and config.calendar.kind == "google":
        watched |= {GOOGLE_WEBHOOKS + c for c in config.calendar.calendar_ids}
    return watched


def lasting(
    store: StateStore, config: Config, config_key: str, now: dt.datetime, *, watchdog: bool
) -> list[Blindness]:
    """Blindness that has lasted: failures in a row, spent credentials, stale sources.

    The watchdog also looks at push channels, webhooks and when a sync last succeeded,
    which a running sync need not: it just read both sides itself.
    """
    if not watchdog:
        return assess(store.source_health(config_key), rules_of(config), now)
    calendars = set(config.calendar.calendar_ids)
    # A calendar that left the config takes its channel's renewal failures along.
    health = [
        h
        for h in store.source_health(config_key)
        if not h.source.startswith(PUSH) or h.source.removeprefix(PUSH) in calendars
    ]
    watched = webhook_sources(config)
    return assess(
        health,
        rules_of(config),
        now,
        last_sync=store.last_success(config_key),
        check_sync=True,
        channels=store.channels(config_key),
        webhooks=[w for w in store.webhook_activity(config_key) if w.source in watched],
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
