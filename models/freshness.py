"""When launchsync is blind: which sources it cannot trust right now, and why.

A sync that cannot read a side must never report launches "in sync" from what it saw
hours ago. These rules turn read history into `Blindness` findings; the flow then marks
every launch `unknown`, holds back its actions and tells the operators. Pure: `now` is an
argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

# A failure with one of these statuses will not heal by retrying: a token was revoked,
# a permission taken away or a quota spent. One such failure is enough to be blind.
SPENT_STATUSES = frozenset({401, 403, 429})
SYNC = "sync"  # the pseudo-source "launchsync itself": no successful sync lately
PUSH = "push:"  # a Google push channel's source: `push:<calendar id>`
WEBHOOK = "webhook:"  # a watched source's webhooks: `webhook:jira`, `webhook:google:<id>`
JIRA_WEBHOOKS = "jira"  # the webhook activity of Jira
GOOGLE_WEBHOOKS = "google:"  # ... and of one Google calendar: `google:<calendar id>`


class Blindness(BaseModel):
    """A source launchsync cannot currently trust, in one line a person can act on."""

    model_config = ConfigDict(frozen=True)

    source: str
    reason: str
    since: dt.datetime | None = None

    def to_json(self) -> dict[str, str | None]:
        """The plan JSON shape."""
        return {
            "source": self.source,
            "reason": self.reason,
            "since": self.since.isoformat() if self.since else None,
        }


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How one source fared on its latest reads."""

    source: str
    last_attempt: dt.datetime
    last_success: dt.datetime | None = None
    failures: int = 0  # consecutive, since the last success
    last_error: str | None = None
    last_status: int | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A Google push channel launchsync opened on a calendar."""

    calendar_id: str
    channel_id: str
    resource_id: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class WebhookActivity:
    """A source whose changes webhooks announce ("jira", "google:<calendar id>")."""

    source: str
    first_seen: dt.datetime  # when launchsync began watching: the baseline before any webhook
    last_notified: dt.datetime | None = None  # the receiver's last accepted webhook
    last_change: dt.datetime | None = None  # the newest change a sync saw


@dataclass(frozen=True, slots=True)
class FreshnessRules:
    """How stale is too stale."""

    stale_after: dt.timedelta
    failed_runs: int
    webhook_silence: dt.timedelta = dt.timedelta(minutes=30)


def assess(
    health: Iterable[SourceHealth],
    rules: FreshnessRules,
    now: dt.datetime,
    *,
    last_sync: dt.datetime | None = None,
    check_sync: bool = False,
    channels: Iterable[Channel] = (),
    webhooks: Iterable[WebhookActivity] = (),
) -> list[Blindness]:
    """Every reason launchsync is blind right now, sources in name order.

    Failed push-channel renewals (`push:` health) count with check_sync, and webhook
    silence where webhooks are passed: the watchdog's view, not a sync's (which just read).
    """
    health = sorted(health, key=lambda h: h.source)
    reads = [h for h in health if not h.source.startswith(PUSH)]
    found = [b for h in reads if (b := _source(h, rules, now))]
    if check_sync:
        found += [b for h in health if h.source.startswith(PUSH) and (b := _renewal(h))]
    renewal_failed = {b.source for b in found}
    for channel in sorted(channels, key=lambda c: c.calendar_id):
        # A failed renewal already names the cause; one source, one episode, one alert.
        if channel.expires_at <= now and PUSH + channel.calendar_id not in renewal_failed:
            found.append(
                Blindness(
                    source=PUSH + channel.calendar_id,
                    reason=f"the Google push channel expired at {_at(channel.expires_at)}; "
                    "run the watchdog flow (launchsync watchdog) to renew it",
                    since=channel.expires_at,
                )
            )
    found += [b for w in sorted(webhooks, key=lambda w: w.source) if (b := _silent(w, rules))]
    # Before any sync has read anything there is nothing to be blind to (doctor says so).
    ran = bool(reads) or last_sync is not None
    if check_sync and ran and (last_sync is None or now - last_sync > rules.stale_after):
        when = f"since {_at(last_sync)}" if last_sync else "ever"
        found.append(
            Blindness(
                source=SYNC,
                reason=f"no successful sync {when}; check the workers and the last run's logs",
                since=last_sync,
            )
        )
    return found


def _source(h: SourceHealth, rules: FreshnessRules, now: dt.datetime) -> Blindness | None:
    error = h.last_error or "no error recorded"
    if h.failures and h.last_status in SPENT_STATUSES:
        return Blindness(
            source=h.source,
            reason=f"credentials or quota spent (HTTP {h.last_status}): {error}",
            since=h.last_success,
        )
    if h.failures >= rules.failed_runs:
        return Blindness(
            source=h.source,
            reason=f"failed {h.failures} reads in a row: {error}",
            since=h.last_success,
        )
    # A failure or two is not blindness yet: the next runs retry, and the snapshot holds.
    if h.last_success is not None and now - h.last_success > rules.stale_after:
        return Blindness(
            source=h.source,
            reason=f"not read successfully since {_at(h.last_success)}",
            since=h.last_success,
        )
    return None


def _renewal(h: SourceHealth) -> Blindness | None:
    """A push channel the watchdog could not open or renew: its notifications will stop."""
    if not h.failures:
        return None
    return Blindness(
        source=h.source,
        reason=f"could not open or renew the Google push channel: {h.last_error}; "
        "fix the cause, the next watchdog run retries",
        since=h.last_success,
    )


def _silent(w: WebhookActivity, rules: FreshnessRules) -> Blindness | None:
    """Webhooks stopped arriving: a sync saw a change newer than the last webhook + grace."""
    heard = w.last_notified or w.first_seen
    if w.last_change is None or w.last_change - heard <= rules.webhook_silence:
        return None
    last = f"the last one at {_at(w.last_notified)}" if w.last_notified else "none ever"
    return Blindness(
        source=WEBHOOK + w.source,
        reason=f"webhooks stopped arriving: a sync saw a change at {_at(w.last_change)}, "
        f"{last}; check the webhook registration and that `launchsync webhooks` is reachable",
        since=w.last_notified,
    )


def _at(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"
