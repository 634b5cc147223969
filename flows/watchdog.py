"""The freshness watchdog flow: renew Google push channels, and never let blindness be silent.

It runs on its own schedule beside the syncs (`launchsync serve` / `deploy` add it), so it
notices what a sync cannot report about itself: that no sync has succeeded for too long.
Every alert goes to `alerts.operators`, once per source and episode.
"""

# No `from __future__ import annotations`: `launchsync serve` pickles the flow function
# by value, and its parameter annotations must be objects, not names to look up.
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from connectors.google_calendar import GoogleCalendarSource
from flows.bootstrap import Runtime, config_key_of, load_with_secrets, open_runtime
from flows.freshness import alert_blindness, lasting
from models.errors import LaunchsyncError
from models.freshness import PUSH, Blindness, Channel

WEBHOOK_PATH = "/webhooks/google"


@dataclass
class WatchReport:
    """What one watchdog run found and did."""

    blind: list[Blindness] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    alerted: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly summary (the flow's return value)."""
        return {
            "blind": [b.source for b in self.blind],
            "renewed": self.renewed,
            "failures": self.failures,
            "alerted": len(self.alerted),
        }


def renew_channels(runtime: Runtime, now: dt.datetime) -> tuple[list[str], list[str]]:
    """Open a push channel on every Google calendar lacking a live one; (renewed, failures).

    A crash between opening and saving leaves an unknown channel at Google: it sends
    notifications the receiver still accepts (same token) until it expires on its own.
    """
    config = runtime.config
    hooks, source = config.webhooks, runtime.sources.calendar
    if not isinstance(source, GoogleCalendarSource):
        return [], []  # only Google pushes; CalDAV and ICS are read on the schedule
    if not hooks.public_url or hooks.google_token is None:
        return [], []
    address = hooks.public_url.rstrip("/") + WEBHOOK_PATH
    token = hooks.google_token.get_secret_value()
    renew_before = dt.timedelta(hours=config.freshness.channel_renew_hours)
    held = {c.calendar_id: c for c in runtime.store.channels(runtime.config_key)}
    renewed, failures = [], []
    for calendar_id in config.calendar.calendar_ids:
        old = held.get(calendar_id)
        if old is not None and old.expires_at - now > renew_before:
            continue
        health = PUSH + calendar_id  # the channel's health: lasting() judges its failures
        try:
            _open_channel(runtime, source, calendar_id, address, token)
        except (LaunchsyncError, KeyError, ValueError) as exc:
            failure = runtime.redactor(f"push channel for {calendar_id}: {exc}")
            failures.append(failure)
            runtime.store.record_read(runtime.config_key, health, error=failure)
            continue
        renewed.append(calendar_id)
        runtime.store.record_read(runtime.config_key, health)
        if old is not None:
            try:
                source.stop_channel(old.channel_id, old.resource_id)
            except LaunchsyncError as exc:  # the new channel works; the old one lapses alone
                failures.append(runtime.redactor(f"old push channel of {calendar_id}: {exc}"))
    for calendar_id in set(held) - set(config.calendar.calendar_ids):
        runtime.store.forget_channel(runtime.config_key, calendar_id)  # left the config
    return renewed, failures


def _open_channel(
    runtime: Runtime, source: GoogleCalendarSource, calendar_id: str, address: str, token: str
) -> None:
    """Open a push channel on the calendar and remember it."""
    opened = source.watch(calendar_id, address, token, str(uuid.uuid4()))
    expires = dt.datetime.fromtimestamp(int(opened["expiration"]) / 1000, dt.UTC)
    channel = Channel(calendar_id, opened["id"], opened["resourceId"], expires)
    runtime.store.save_channel(runtime.config_key, channel)


def watch(runtime: Runtime, now: dt.datetime) -> WatchReport:
    """One watchdog pass: renew channels, judge freshness, alert operators."""
    report = WatchReport()
    report.renewed, report.failures = renew_channels(runtime, now)
    report.blind = lasting(runtime.store, runtime.config, runtime.config_key, now, watchdog=True)
    told = alert_blindness(runtime, report.blind)
    report.alerted, report.failures = told.alerted, report.failures + told.failures
    return report


@flow(name="launchsync-watchdog", log_prints=True)
def launchsync_watchdog(config: str = "launchsync.yaml") -> dict[str, Any]:
    """Renew Google push channels and alert operators when launchsync is blind.

    config: path of the config YAML, or `block:<name>` of a Prefect Secret block holding it.
    """
    settings, redactor = load_with_secrets(config)
    redactor.install()
    key = config_key_of(config)
    logger = get_run_logger()
    with open_runtime(settings, key, redactor) as runtime:
        report = watch(runtime, dt.datetime.now(dt.UTC))
    for blind in report.blind:
        logger.error("blind to %s: %s", blind.source, blind.reason)
    for failure in report.failures:
        logger.error("%s", failure)
    lines = [f"- `{b.source}`: {b.reason}" for b in report.blind] or ["Every source is fresh."]
    create_markdown_artifact(
        redactor("# launchsync freshness\n\n" + "\n".join(lines) + "\n"),
        key=f"{key}-freshness",
        description="launchsync freshness watchdog",
    )
    return report.summary()
