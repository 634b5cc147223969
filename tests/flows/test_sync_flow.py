"""The sync flow over seed sources, a real SQLite state store and fakes of our own ports.

The end-to-end versions against the Jira and Google sandboxes are test_demo.py and
test_write_back.py; this one pins down the act-once rules: one ticket and one alert per
divergence, a comment and a new alert when it changes, resolution when aligned, silence
when nothing changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.bootstrap import open_runtime
from flows.redact import Redactor
from flows.sync import SyncOptions, SyncReport
from models.config import parse_config
from tests.fakes import FakeNotifier, FakeTicketSink
from tests.fixtures.google import google_event
from tests.fixtures.jira import jira_version
from tests.flows.running import sync_in_flow

TODAY = dt.date(2026, 11, 23)
RELEASE_DAY = TODAY + dt.timedelta(days=30)
BLOG = "e-blog"
MISMATCH = f"date_mismatch|100|marketing@example.com/{BLOG}"


@dataclasses.dataclass
class World:
    """A seed directory the test edits like people edit Jira and the calendar."""

    seed: Path
    config_text: str
    sink: FakeTicketSink
    notifier: FakeNotifier
    release_day: dt.date = RELEASE_DAY
    blog_day: dt.date = RELEASE_DAY - dt.timedelta(days=7)
    more_events: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def write(self) -> None:
        jira = {
            "deployment": "Cloud",
            "projects": [
                {
                    "key": "PROJ",
                    "id": "1",
                    "versions": [jira_version("100", "2.4", self.release_day)],
                }
            ],
        }
        calendars = {
            "marketing@example.com": [
                google_event(
                    BLOG,
                    self.blog_day,
                    "PROJ 2.4 blog",
                    organizer={"email": "pmm@example.com"},
                    extendedProperties={"private": {"jiraVersionId": "100"}},
                ),
                *self.more_events,
            ]
        }
        (self.seed / "jira.json").write_text(json.dumps(jira))
        (self.seed / "calendars.json").write_text(json.dumps(calendars))


@pytest.fixture
def world(tmp_path: Path, prefect_harness: None) -> Iterator[World]:
    seed = tmp_path / "seed"
    seed.mkdir()
    config = {
        "timezone": "America/Los_Angeles",
        "jira": {"url": "https://jira.test", "projects": ["PROJ"]},
        "calendar": {"calendar_ids": ["marketing@example.com"]},
        "alerts": {"routes": [{"projects": ["PROJ"], "notify": ["launch@example.com"]}]},
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
    }
    w = World(seed, yaml.safe_dump(config), FakeTicketSink(), FakeNotifier())
    w.write()
    yield w


def sync(world: World, wrap: Any = None, **options: Any) -> SyncReport:
    config = parse_config(world.config_text, "test.yaml", {})
    with open_runtime(config, "test", Redactor(), seed_dir=world.seed) as runtime:
        runtime = dataclasses.replace(runtime, sink=world.sink, notifier=world.notifier)
        if wrap is not None:
            runtime = dataclasses.replace(runtime, store=wrap(runtime.store))
        return sync_in_flow(runtime, SyncOptions(today=TODAY, **options))


def test_a_divergence_opens_one_ticket_and_alerts_once_then_stays_quiet(world: World) -> None:
    report = sync(world)
    assert report.outcome is not None and report.outcome.failures == []
    assert [t.identity for t in world.sink.tickets.values()] == [MISMATCH]
    (alert,) = world.notifier.sent["launch@example.com"]
    assert "PROJ 2.4" in alert.subject and alert.severity == "critical"
    again = sync(world)
    assert again.outcome is not None and again.outcome.summary()["opened"] == 0
    assert len(world.sink.tickets) == 1 and len(world.notifier.all()) == 1


def test_a_move_comments_and_alerts_again_and_alignment_resolves(world: World) -> None:
    sync(world)
    world.release_day += dt.timedelta(days=3)  # engineering slips the release
    world.write()
    moved = sync(world)
    (ticket,) = world.sink.tickets.values()
    assert len(ticket.comments) == 1 and not ticket.done
    assert len(world.notifier.all()) == 2
    assert [(s.old_date, s.new_date) for s in moved.slips] == [(RELEASE_DAY, world.release_day)]
    world.blog_day = world.release_day  # marketing moves the blog to the new date
    world.write()
    sync(world)
    assert ticket.done
    assert sync(world).outcome is not None and len(world.notifier.all()) == 2


def test_a_dry_run_acts_on_nothing_and_remembers_nothing(world: World) -> None:
    report = sync(world, dry_run=True)
    assert report.plan is not None and len(report.plan.divergences) == 1
    assert world.sink.tickets == {} and world.notifier.sent == {}
    sync(world)
    assert len(world.sink.tickets) == 1


class ProcessKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches or retries it."""


class CrashOnce:
    """A store that dies once right after the side effect, before the record."""

    def __init__(self, inner: Any, method: str) -> None:
        self.inner, self.method, self.crashed = inner, method, False

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name != self.method or self.crashed:
            return target

        def crash(*args: Any, **kwargs: Any) -> Any:
            self.crashed = True
            raise ProcessKilled("process killed")

        return crash


def test_a_crash_between_ticket_and_record_never_opens_a_second_ticket(world: World) -> None:
    with pytest.raises(ProcessKilled):
        sync(world, wrap=lambda store: CrashOnce(store, "record_divergence"))
    sync(world)
    assert len(world.sink.tickets) == 1
    assert len(world.notifier.all()) == 1  # claimed before the crash: not sent twice


def test_a_failed_alert_is_retried_by_the_next_run(world: World) -> None:
    world.notifier.fail_next = 1
    first = sync(world)
    assert first.outcome is not None and len(first.outcome.failures) == 1
    assert "email send failed" in first.outcome.failures[0]
    sync(world)
    assert len(world.notifier.all()) == 1 and len(world.sink.tickets) == 1


def test_a_second_run_while_one_holds_the_lock_exits_cleanly(world: World) -> None:
    config = parse_config(world.config_text, "test.yaml", {})
    with (
        open_runtime(config, "test", Redactor(), seed_dir=world.seed) as runtime,
        runtime.store.lock("test", "someone-else", dt.timedelta(minutes=5)) as held,
    ):
        assert held
        report = sync(world)
    assert report.skipped and world.sink.tickets == {}


def at(hour: int) -> dt.datetime:
    """TODAY at this hour in Los Angeles, the business zone."""
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(TODAY, dt.time(hour), tzinfo=ZoneInfo("America/Los_Angeles"))


def a_warning_with_a_digest_at_9(world: World) -> None:
    """A blog three days after a release 40 days out: late but far off, so a warning."""
    world.release_day = TODAY + dt.timedelta(days=40)
    world.blog_day = world.release_day + dt.timedelta(days=3)
    world.write()
    world.config_text = world.config_text.replace("alerts:", "alerts:\n  digest_hour: 9")


def test_warnings_wait_for_the_daily_digest_and_go_out_once(world: World) -> None:
    a_warning_with_a_digest_at_9(world)
    sync(world, now=at(7))
    assert len(world.sink.tickets) == 1 and world.notifier.all() == []  # ticket now, mail later
    sync(world, now=at(8))
    assert len(world.sink.tickets) == 1 and world.notifier.all() == []
    sync(world, now=at(9))
    (digest,) = world.notifier.all()
    assert digest.subject.startswith("[launchsync] digest") and "PROJ 2.4" in digest.body
    sync(world, now=at(15))
    assert len(world.notifier.all()) == 1 and len(world.sink.tickets) == 1


def test_a_warning_that_turns_up_after_the_days_digest_goes_out_once_in_a_later_one(
    world: World,
) -> None:
    a_warning_with_a_digest_at_9(world)
    sync(world, now=at(9))
    (digest,) = world.notifier.all()
    assert "PROJ 2.4 blog" in digest.body
    webinar_day = world.release_day + dt.timedelta(days=2)  # a second warning, after the digest
    world.more_events.append(
        google_event(
            "e-webinar",
            webinar_day,
            "PROJ 2.4 webinar",
            extendedProperties={"private": {"jiraVersionId": "100"}},
        )
    )
    world.write()
    world.notifier.fail_next = 1  # the mail server is down: the webinar is not told yet
    failed = sync(world, now=at(10))
    assert failed.outcome is not None
    assert "digest to 1 of 1 recipients" in failed.outcome.failures[0]
    sync(world, now=at(11))
    first, later = world.notifier.sent["launch@example.com"]
    assert first.key != later.key and "PROJ 2.4 webinar" in later.body
    assert "PROJ 2.4 blog" not in later.body  # told at 9: not told again
    sync(world, now=at(15))
    assert len(world.notifier.sent["launch@example.com"]) == 2


def test_a_source_that_cannot_be_read_makes_launches_unknown_and_tells_operators_once(
    world: World,
) -> None:
    world.config_text = world.config_text.replace(
        "alerts:", "freshness: {failed_runs: 2}\nalerts:\n  operators: [ops@example.com]"
    )
    sync(world)
    (ticket,) = world.sink.tickets.values()
    world.blog_day = world.release_day  # aligned in the calendar, but Jira goes dark:
    world.write()
    (world.seed / "jira.json").write_text("{ not json")
    first = sync(world)
    assert first.plan is not None and first.plan.status == "unknown"
    assert [b.source for b in first.plan.blind] == ["jira"]
    # Stale Jira data cannot prove the launch aligned: the ticket stays open, nobody is told.
    assert not ticket.done and first.plan.actions == ()
    assert "ops@example.com" not in world.notifier.sent  # one failure is not blindness yet
    second = sync(world)
    assert second.plan is not None and "failed 2 reads in a row" in second.plan.blind[0].reason
    (blind,) = world.notifier.sent["ops@example.com"]
    assert "blind to jira" in blind.subject and "jira.json" in blind.body
    sync(world)
    assert len(world.notifier.sent["ops@example.com"]) == 1  # the same episode: once
    world.write()  # Jira is back
    back = sync(world)
    assert back.plan is not None and back.plan.status == "current" and ticket.done


def test_the_alert_after_a_slip_links_the_ticket_and_says_when_the_slip_was_seen(
    world: World,
) -> None:
    sync(world, now=at(7))
    old_day, world.release_day = world.release_day, world.release_day + dt.timedelta(days=3)
    world.write()
    sync(world, now=at(8))
    first, follow_up = world.notifier.sent["launch@example.com"]
    ticket = "[LS-1](https://jira.test/browse/LS-1)"
    assert ticket in first.body and ticket in follow_up.body
    # Jira keeps no history of versions: the alert says when launchsync saw the move.
    moved = f"PROJ 2.4 moved from {old_day} to {world.release_day}, seen 2026-11-23 16:00 UTC"
    assert moved in follow_up.body


class Died(BaseException):
    """The process ends here, as a kill would end it (no retry, no clean-up)."""


@dataclasses.dataclass
class DiesAfterSending:
    """The notifier of a process killed right after its first delivery."""

    inner: FakeNotifier

    def send(self, alert: Any) -> None:
        self.inner.send(alert)
        raise Died


def test_a_run_killed_right_after_sending_the_digest_never_sends_it_again(world: World) -> None:
    a_warning_with_a_digest_at_9(world)
    notifier = world.notifier
    world.notifier = DiesAfterSending(notifier)  # type: ignore[assignment]
    with pytest.raises(Died):
        sync(world, now=at(9))
    (digest,) = notifier.all()  # delivered; the run died before it could note that
    world.notifier = notifier
    after = sync(world, now=at(10))
    assert after.outcome is not None and after.outcome.failures == []
    assert len(after.outcome.unconfirmed) == 1  # the delivery nobody confirmed is reported
    assert notifier.all() == [digest]  # and not sent a second time
    again = sync(world, now=at(15))
    assert again.outcome is not None and again.outcome.summary()["opened"] == 0
    assert notifier.all() == [digest] and len(world.sink.tickets) == 1


def test_a_digest_tells_a_slip_seen_before_the_digest_hour_and_links_the_ticket(
    world: World,
) -> None:
    a_warning_with_a_digest_at_9(world)
    sync(world, now=at(7))
    old_day, world.release_day = world.release_day, world.release_day + dt.timedelta(days=1)
    world.write()
    sync(world, now=at(8))
    assert world.notifier.all() == []
    sync(world, now=at(9))
    (digest,) = world.notifier.all()
    assert f"PROJ 2.4 moved from {old_day} to {world.release_day}, seen 2026-11-23 16:00 UTC" in (
        digest.body
    )
    assert f"PROJ 2.4 ships {world.release_day}; PROJ 2.4 blog on {world.blog_day}" in digest.body
    assert "ticket [LS-1](https://jira.test/browse/LS-1)" in digest.body
