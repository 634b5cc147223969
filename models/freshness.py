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
class FreshnessRules:
    """How stale is too stale."""

    stale_after: dt.timedelta
    failed_runs: int


def assess(
    health: Iterable[SourceHealth],
    rules: FreshnessRules,
    now: dt.datetime,
    *,
    last_sync: dt.datetime | None = None,
    check_sync: bool = False,
    channels: Iterable[Channel] = (),
) -> list[Blindness]:
    """Every reason launchsync is blind right now, sources in name order."""
    health = sorted(health, key=lambda h: h.source)
    found = [b for h in health if (b := _source(h, rules, now))]
    for channel in sorted(channels, key=lambda c: c.calendar_id):
        if channel.expires_at <= now:
            found.append(
                Blindness(
                    source=f"push:{channel.calendar_id}",
                    reason=f"the Google push channel expired at {_at(channel.expires_at)}; "
                    "run the watchdog flow (launchsync watchdog) to renew it",
                    since=channel.expires_at,
                )
            )
    # Before any sync has read anything there is nothing to be blind to (doctor says so).
    ran = bool(health) or last_sync is not None
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


def _at(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"
