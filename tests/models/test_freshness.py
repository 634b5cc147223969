"""When launchsync calls itself blind, and what it says to the operators."""

from __future__ import annotations

import datetime as dt

from models.freshness import Channel, FreshnessRules, SourceHealth, assess

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
RULES = FreshnessRules(stale_after=dt.timedelta(hours=2), failed_runs=3)


def health(**kwargs: object) -> SourceHealth:
    values: dict[str, object] = {"source": "jira", "last_attempt": NOW} | kwargs
    return SourceHealth(**values)  # type: ignore[arg-type]


def test_a_recent_success_is_not_blindness() -> None:
    assert assess([health(last_success=NOW - dt.timedelta(minutes=15))], RULES, NOW) == []


def test_a_failure_or_two_is_not_blindness_yet_but_the_third_is() -> None:
    ok = NOW - dt.timedelta(minutes=30)
    assert assess([health(last_success=ok, failures=2, last_error="503")], RULES, NOW) == []
    (blind,) = assess([health(last_success=ok, failures=3, last_error="jira 503")], RULES, NOW)
    assert blind.source == "jira" and blind.since == ok
    assert blind.reason == "failed 3 reads in a row: jira 503"


def test_a_revoked_token_or_spent_quota_is_blindness_at_once() -> None:
    for status in (401, 403, 429):
        (blind,) = assess(
            [health(last_success=NOW, failures=1, last_error="denied", last_status=status)],
            RULES,
            NOW,
        )
        assert f"credentials or quota spent (HTTP {status})" in blind.reason
    assert assess([health(failures=1, last_status=500, last_error="x")], RULES, NOW) == []


def test_a_source_not_read_for_too_long_is_stale() -> None:
    old = NOW - dt.timedelta(hours=3)
    (blind,) = assess([health(source="calendar:google", last_success=old)], RULES, NOW)
    assert blind.reason == "not read successfully since 2026-11-23 09:00 UTC"


def test_the_watchdog_also_sees_expired_channels_and_missing_syncs() -> None:
    channel = Channel("cal@example.com", "ch-1", "res-1", NOW - dt.timedelta(minutes=1))
    live = Channel("other@example.com", "ch-2", "res-2", NOW + dt.timedelta(days=1))
    failed = health(failures=1, last_error="503")
    found = assess([failed], RULES, NOW, channels=[channel, live], check_sync=True)
    assert [b.source for b in found] == ["push:cal@example.com", "sync"]
    assert "no successful sync ever" in found[1].reason
    # Nothing has run yet: nothing to be blind to.
    assert assess([], RULES, NOW, check_sync=True, last_sync=None) == []
    recent = NOW - dt.timedelta(minutes=20)
    assert assess([], RULES, NOW, check_sync=True, last_sync=recent) == []
