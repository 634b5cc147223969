"""The state store on SQLite and PostgreSQL: what goes in comes out, once, atomically."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from connectors.base import Alert
from connectors.channels import recipient_label
from connectors.state_store import StateStore
from models.event import EventStatus
from models.reconcile import KnownDivergence
from tests.factories import day, event, version

NOW = dt.datetime(2026, 11, 23, 17, 30, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def race(calls: list[Callable[[], bool]]) -> list[bool]:
    """Run the calls in threads released at the same instant; their results in order."""
    start = threading.Barrier(len(calls))
    results: list[bool] = [False] * len(calls)

    def run(i: int) -> None:
        start.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# --- cursors ----------------------------------------------------------------------------


def test_cursors_round_trip_and_merge_by_name(store: StateStore, config_key: str) -> None:
    assert store.cursors(config_key) == {}
    store.save_cursors(config_key, {"jira:PROJ": "2026-11-01", "google:cal@x": "tok1"})
    store.save_cursors(config_key, {"google:cal@x": "tok2"})
    assert store.cursors(config_key) == {"jira:PROJ": "2026-11-01", "google:cal@x": "tok2"}
    assert store.cursors(config_key + "-other") == {}


# --- snapshot ---------------------------------------------------------------------------


def test_a_complete_snapshot_round_trips_and_replaces(store: StateStore, config_key: str) -> None:
    old = version("1.0", day(3))
    r1, r2 = version("2.4", day(10), owner="ann@example.com"), version("2.5", None)
    timed = event(
        dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC),
        end=dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC),
        links=r1,
        timezone="Europe/Berlin",
    )
    all_day = event(day(12), links=r2, kind="webinar")
    store.apply_snapshot(config_key, [old], [event(day(1))], complete=True)
    store.apply_snapshot(config_key, [r1, r2], [timed, all_day], complete=True)
    releases, events = store.load_snapshot(config_key)
    assert sorted(releases, key=lambda r: r.id) == sorted([r1, r2], key=lambda r: r.id)
    assert sorted(events, key=lambda e: e.id) == sorted([timed, all_day], key=lambda e: e.id)


def test_an_incremental_snapshot_upserts_and_drops_cancelled_events(
    store: StateStore, config_key: str
) -> None:
    r1, r2 = version("2.4", day(10)), version("2.5", day(20))
    keep, moved, gone = event(day(10)), event(day(20)), event(day(30))
    store.apply_snapshot(config_key, [r1, r2], [keep, moved, gone], complete=True)

    r2_slipped = r2.model_copy(update={"date": day(25)})
    moved_again = moved.model_copy(update={"start": day(26), "end": day(27)})
    cancelled = gone.model_copy(update={"status": EventStatus.CANCELLED})
    added = event(day(40))
    store.apply_snapshot(config_key, [r2_slipped], [moved_again, cancelled, added], complete=False)

    releases, events = store.load_snapshot(config_key)
    assert {r.id: r.date for r in releases} == {r1.id: day(10), r2.id: day(25)}
    starts = {e.id: e.start for e in events}
    assert starts == {keep.id: day(10), moved.id: day(26), added.id: day(40)}


def test_twenty_thousand_items_store_and_load_in_seconds(
    store: StateStore, config_key: str
) -> None:
    releases = [version(f"1.{i}", day(i % 300)) for i in range(20_000)]
    events = [event(day(i % 300)) for i in range(20_000)]
    started = time.perf_counter()
    store.apply_snapshot(config_key, releases, events, complete=True)
    store.apply_snapshot(config_key, releases[:5000], events[:5000], complete=False)
    loaded_releases, loaded_events = store.load_snapshot(config_key)
    elapsed = time.perf_counter() - started
    assert (len(loaded_releases), len(loaded_events)) == (20_000, 20_000)
    assert elapsed < 10, f"20k-item snapshot took {elapsed:.1f}s"


# --- slip history -----------------------------------------------------------------------


def test_slips_are_recorded_only_when_a_date_changes(store: StateStore, config_key: str) -> None:
    r = version("2.4", day(10))
    later = NOW + dt.timedelta(hours=1)
    moved_at = dt.datetime(2026, 11, 23, 16, 5, tzinfo=dt.UTC)

    assert store.record_release_dates(config_key, [r], NOW) == []  # first sighting
    assert store.record_release_dates(config_key, [r], later) == []  # unchanged
    slipped = r.model_copy(update={"date": day(17)})
    slips = store.record_release_dates(config_key, [slipped], later, {r.id: ("Ann Lee", moved_at)})

    assert len(slips) == 1
    slip = slips[0]
    assert (slip.release_id, slip.label, slip.old_date, slip.new_date) == (
        r.id,
        "PROJ 2.4",
        day(10),
        day(17),
    )
    assert (slip.changed_by, slip.changed_at, slip.seen_at) == ("Ann Lee", moved_at, later)
    assert store.slip_history(config_key) == slips


def test_slip_history_is_newest_last_and_filters_by_release(
    store: StateStore, config_key: str
) -> None:
    a, b = version("2.4", day(10)), version("2.5", None)
    store.record_release_dates(config_key, [a, b], NOW)
    for hours, (a_day, b_day) in enumerate([(day(11), day(30)), (day(12), day(30))], start=1):
        moved = [a.model_copy(update={"date": a_day}), b.model_copy(update={"date": b_day})]
        store.record_release_dates(config_key, moved, NOW + dt.timedelta(hours=hours))

    history = store.slip_history(config_key)
    assert [(s.release_id, s.old_date, s.new_date) for s in history] == [
        (a.id, day(10), day(11)),
        (b.id, None, day(30)),  # being given a date is a change too
        (a.id, day(11), day(12)),
    ]
    assert [s.new_date for s in store.slip_history(config_key, a.id)] == [day(11), day(12)]
    assert all(s.seen_at.tzinfo is not None for s in history)


def test_a_naive_timestamp_is_refused(store: StateStore, config_key: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.record_release_dates(config_key, [version()], dt.datetime(2026, 11, 23, 12))


# --- open divergences -------------------------------------------------------------------


def test_divergences_are_upserted_and_forgotten(store: StateStore, config_key: str) -> None:
    store.record_divergence(config_key, "date_mismatch|1|cal/e1", "fp1", None)
    store.record_divergence(config_key, "date_mismatch|1|cal/e1", "fp2", "OPS-7")
    store.record_divergence(config_key, "missing_event|2|-", "fp3", "OPS-8")
    assert store.known_divergences(config_key) == {
        "date_mismatch|1|cal/e1": KnownDivergence("date_mismatch|1|cal/e1", "fp2", "OPS-7"),
        "missing_event|2|-": KnownDivergence("missing_event|2|-", "fp3", "OPS-8"),
    }
    store.forget_divergence(config_key, "missing_event|2|-")
    store.forget_divergence(config_key, "never-known")
    assert list(store.known_divergences(config_key)) == ["date_mismatch|1|cal/e1"]


# --- alerts -----------------------------------------------------------------------------


def test_an_alert_is_claimed_once_and_unconfirmed_claims_are_reported(
    store: StateStore, config_key: str
) -> None:
    assert store.claim_alert(config_key, "a1", ["pm@example.com"])
    assert not store.claim_alert(config_key, "a1", ["pm@example.com"])
    assert store.claim_alert(config_key, "a2", ["pm@example.com"])
    store.confirm_alert(config_key, "a1")
    assert store.unconfirmed_alerts(config_key) == ["a2"]
    assert not store.claim_alert(config_key, "a1", ["pm@example.com"])  # confirmed stays


def test_a_released_claim_may_be_claimed_again(store: StateStore, config_key: str) -> None:
    assert store.claim_alert(config_key, "a1", ["pm@example.com"])
    store.release_alert(config_key, "a1")  # the send failed
    assert store.claim_alert(config_key, "a1", ["pm@example.com"])
    store.confirm_alert(config_key, "a1")
    store.release_alert(config_key, "a1")  # a delivered alert is never given back
    assert not store.claim_alert(config_key, "a1", ["pm@example.com"])


def test_an_owed_alert_round_trips_per_identity_until_settled(
    store: StateStore, config_key: str
) -> None:
    first = Alert("k|1", ("pm@example.com",), "PROJ 2.4 slipped", "moved **it**", "critical")
    hook = "https://hooks.slack.com/services/T0/B0/s3cretToken"
    again = Alert("k|2", ("pm@example.com", hook), "PROJ 2.4 slipped", "é", "warning")
    store.owe_alert(config_key, "date_mismatch|100|cal/e1", first)
    store.owe_alert(config_key, "date_mismatch|100|cal/e1", again)  # the newest is owed
    store.owe_alert(config_key, "date_mismatch|101|cal/e2", first)
    assert store.owed_alerts("another-config") == {}
    owed = store.owed_alerts(config_key)
    assert owed["date_mismatch|101|cal/e2"] == first
    # The webhook is kept as a label: its address is its password.
    kept = owed["date_mismatch|100|cal/e1"]
    assert kept.recipients == ("pm@example.com", recipient_label(hook))
    assert "s3cretToken" not in repr(kept) and kept.recipients[1].startswith("slack://…#")
    assert (kept.key, kept.subject, kept.body) == (again.key, again.subject, again.body)
    store.settle_owed_alert(config_key, "date_mismatch|100|cal/e1")
    store.settle_owed_alert(config_key, "never-owed")
    assert list(store.owed_alerts(config_key)) == ["date_mismatch|101|cal/e2"]


def test_two_connections_racing_for_an_alert_yield_one_winner(
    state_url: str, config_key: str
) -> None:
    with StateStore.open(state_url) as one, StateStore.open(state_url) as two:
        for n in range(15):
            key = f"alert-{n}"
            results = race(
                [partial(s.claim_alert, config_key, key, ["a@x.com"]) for s in (one, two)]
            )
            assert sorted(results) == [False, True], key


CLAIMER = """
import json, sys, time
from pathlib import Path
from connectors.base import Alert
from connectors.channels import recipient_label
from connectors.state_store import StateStore
url, config_key, me, go = sys.argv[1:]
with StateStore.open(url) as store:
    Path(go + "." + me).touch()
    while not Path(go).exists():
        time.sleep(0.005)
    won = [k for k in range(60) if store.claim_alert(config_key, f"k{k}", ["x@example.com"])]
print(json.dumps(won))
"""


def test_two_processes_racing_for_alerts_claim_each_once(
    state_url: str, config_key: str, tmp_path: Path
) -> None:
    StateStore.open(state_url).close()  # migrated before the race
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, state_url, config_key, me, str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for me in ("a", "b")
    ]
    deadline = time.monotonic() + 20
    while not all((tmp_path / f"go.{me}").exists() for me in "ab"):
        assert time.monotonic() < deadline, "claimer processes did not start"
        time.sleep(0.01)
    go.touch()
    won = [json.loads(p.communicate(timeout=30)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(won[0] + won[1]) == list(range(60))


# --- run lock ---------------------------------------------------------------------------

TTL = dt.timedelta(minutes=10)


def test_a_held_lock_is_refused_then_granted_after_release(state_url: str, config_key: str) -> None:
    with StateStore.open(state_url) as one, StateStore.open(state_url) as two:
        with one.lock(config_key, "run-1", TTL) as first:
            with two.lock(config_key, "run-2", TTL) as second:
                assert (first, second) == (True, False)
            with two.lock(config_key + "-other", "run-2", TTL) as elsewhere:
                assert elsewhere  # another config is not blocked
        with two.lock(config_key, "run-2", TTL) as after_release:
            assert after_release


def test_an_expired_lock_is_taken_over_and_not_released_by_its_old_owner(
    state_url: str, config_key: str
) -> None:
    clock = Clock()
    with StateStore.open(state_url, clock=clock) as store:
        with store.lock(config_key, "stuck", TTL) as stuck:
            assert stuck
            clock.now += TTL + dt.timedelta(seconds=1)
            with store.lock(config_key, "next", TTL) as taken:
                assert taken
            with store.lock(config_key, "next", TTL) as again:
                assert again  # "next" released it on exit
            with store.lock(config_key, "third", TTL) as third:
                assert third
                # "stuck" now exits: it must not release the lock that "third" holds
        with store.lock(config_key, "fourth", TTL) as fourth:
            assert fourth


def test_two_runs_racing_for_the_lock_yield_one_holder(state_url: str, config_key: str) -> None:
    with StateStore.open(state_url) as one, StateStore.open(state_url) as two:
        for n in range(10):
            key = f"{config_key}-{n}"
            a = one.lock(key, "a", TTL)
            b = two.lock(key, "b", TTL)
            results = race([a.__enter__, b.__enter__])
            assert sorted(results) == [False, True], key
            a.__exit__(None, None, None)
            b.__exit__(None, None, None)


# --- run history ------------------------------------------------------------------------


def test_last_success_is_the_newest_successful_finish(store: StateStore, config_key: str) -> None:
    assert store.last_success(config_key) is None
    hour = dt.timedelta(hours=1)
    store.record_run(config_key, NOW, NOW + hour, "success", {"divergences": 3})
    store.record_run(config_key, NOW + hour, NOW + 2 * hour, "failed", {"error": "boom"})
    berlin = dt.timezone(dt.timedelta(hours=1))
    store.record_run(config_key, NOW, (NOW - hour).astimezone(berlin), "success", {})
    last = store.last_success(config_key)
    assert last == NOW + hour
    assert last is not None and last.utcoffset() == dt.timedelta(0)


def test_deleting_a_recurring_series_drops_its_occurrences(
    store: StateStore, config_key: str
) -> None:
    series = [event(day(n)).model_copy(update={"id": f"weekly/2026120{n}"}) for n in (1, 8)]
    other = event(day(3)).model_copy(update={"id": "weekly2/20261203"})
    store.apply_snapshot(config_key, [], [*series, other], complete=True)
    deleted = event(day(1)).model_copy(update={"id": "weekly", "status": EventStatus.CANCELLED})
    store.apply_snapshot(config_key, [], [deleted], complete=False)
    assert [e.id for e in store.load_snapshot(config_key)[1]] == ["weekly2/20261203"]


def test_source_health_counts_failures_in_a_row_and_a_success_clears_them(
    store: StateStore, config_key: str
) -> None:
    store.record_read(config_key, "jira")
    store.record_read(config_key, "jira", error="jira search failed (last status 503)", status=503)
    store.record_read(config_key, "jira", error="jira search failed (last status 401)", status=401)
    store.record_read(config_key, "calendar:google")
    jira, calendar = (
        {h.source: h for h in store.source_health(config_key)}[s]
        for s in ("jira", "calendar:google")
    )
    assert jira.failures == 2 and jira.last_status == 401 and jira.last_success is not None
    assert jira.last_error == "jira search failed (last status 401)"
    assert calendar.failures == 0 and calendar.last_error is None
    store.record_read(config_key, "jira")
    (jira,) = [h for h in store.source_health(config_key) if h.source == "jira"]
    assert jira.failures == 0 and jira.last_error is None and jira.last_status is None


def test_a_watch_channel_is_replaced_per_calendar_and_forgotten(
    store: StateStore, config_key: str
) -> None:
    from models.freshness import Channel

    soon = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    store.save_channel(config_key, Channel("cal", "ch-1", "res-1", soon))
    store.save_channel(config_key, Channel("cal", "ch-2", "res-2", soon + dt.timedelta(days=7)))
    assert store.channels(config_key) == [
        Channel("cal", "ch-2", "res-2", soon + dt.timedelta(days=7))
    ]
    store.forget_channel(config_key, "cal")
    assert store.channels(config_key) == []
