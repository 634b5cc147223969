"""A sync process killed (os._exit) at each side-effect boundary in turn, then one clean run.

Real child processes, the Jira and Google emulators, the real ticket sink, SMTP notifier and
state store. Every crash leaves its lock row behind, so each next run also proves the lock
of a dead run is taken over at once rather than after its 30-minute ttl.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from sandbox.chaos import ChaosWorld, Check
from sandbox.chaos_child import CRASH_EXIT, CrashPlan
from sandbox.chaos_world import CALENDAR, RECIPIENTS, launch_event


def _crash_at(world: ChaosWorld, boundary: str) -> None:
    assert world.run(world.spec("plain", crash=CrashPlan(boundary))) == CRASH_EXIT, boundary
    check = world.check()
    assert check.duplicate_tickets == [] and check.duplicate_alerts == [], boundary


def _day(world: ChaosWorld, version_id: str) -> dt.date:
    return dt.date.fromisoformat(world.running.jira.versions[version_id]["releaseDate"])


def test_a_crash_at_every_boundary_duplicates_nothing_and_one_run_repairs_it(
    world: ChaosWorld,
) -> None:
    # Three new divergences: ticket, claim, send, record — die after each in turn.
    for boundary in ("ticket_opened", "alert_claimed", "alert_sent", "recorded"):
        _crash_at(world, boundary)
    assert world.run(world.spec("plain")) == 0  # the rest of the divergences are acted on
    # 1.3 slips (its ticket is commented) and 1.1's blog moves onto its release (resolved).
    world.running.jira.move_version("104", _day(world, "104") + dt.timedelta(days=2))
    world.running.google.move_event(CALENDAR, "ev102a", _day(world, "102"))
    for boundary in ("commented", "resolved"):
        _crash_at(world, boundary)
    clean = world.spec("plain")  # no lock wait: a lock left by a dead run would skip it
    assert world.run(clean) == 0
    result = world.result_of(clean)
    assert result is not None and result["skipped"] is None and result["failures"] == []
    assert result["outcome"]["unconfirmed"] >= 1  # the claim whose send never happened
    assert world.check(final=True) == Check()
    comments = [
        c for issue in world.running.jira.issues for c in world.running.jira.comments(issue)
    ]
    assert len(comments) == 1  # the slip was told once, though the run died right after it


def test_a_ticket_whose_run_died_before_recording_it_is_resolved_when_aligned(
    world: ChaosWorld,
) -> None:
    _crash_at(world, "ticket_opened")  # a ticket exists; the run died before its alert
    (opened,) = world.running.jira.issues
    # Before any run records it, marketing fixes every launch: nothing diverges any more.
    for version_id in ("102", "104"):
        world.running.google.move_event(CALENDAR, f"ev{version_id}a", _day(world, version_id))
    world.running.google.insert_event(
        CALENDAR, launch_event("ev105b", "105", "1.4", _day(world, "105"))
    )
    assert world.run(world.spec("plain")) == 0
    assert world.expected() == {}
    status = world.running.jira.issues[opened]["fields"]["status"]
    assert status["statusCategory"]["key"] == "done"  # not left open with nobody to close it
    assert world.check(final=True) == Check()


def _event(world: ChaosWorld, event_id: str) -> tuple[dt.date, str]:
    resource = world.running.google.store.snapshot(CALENDAR)[1]
    (event,) = [e.resource for e in resource if e.resource["id"] == event_id]
    return dt.date.fromisoformat(event["start"]["date"]), str(event["status"])


def test_a_crash_in_the_fetch_or_after_a_calendar_write_back_is_repaired_by_the_next_run(
    world: ChaosWorld,
) -> None:
    # The fetch stores slips, then the snapshot, then cursors: die after each in turn; then
    # after write-back marks the first off-date blog post tentative.
    for boundary in ("dates_recorded", "snapshot_applied", "cursors_saved", "event_marked"):
        _crash_at(world, boundary)
    assert world.run(world.spec("plain")) == 0
    assert _event(world, "ev102a")[1] == _event(world, "ev104a")[1] == "tentative"
    # 1.0 slips; its blog post was on its date, so write-back moves it along, then dies.
    world.running.jira.move_version("101", _day(world, "101") + dt.timedelta(days=2))
    _crash_at(world, "event_moved")
    assert _event(world, "ev101a") == (_day(world, "101"), "confirmed")
    moved = f"launchsync moved the event to {_day(world, '101')}"
    assert not _told(world, moved)  # killed before it could say so
    # 1.2 slips; the run dies right after noting the slip, before acting on it.
    world.running.jira.move_version("103", _day(world, "103") + dt.timedelta(days=3))
    _crash_at(world, "dates_recorded")
    assert world.settle() == 0
    # The next run still knows the slip: the post follows its release, not just flagged.
    assert _event(world, "ev103a") == (_day(world, "103"), "confirmed")
    assert world.check(final=True) == Check()
    # The move ended 1.0's divergence, yet the alert owed before it went out, once each.
    assert sorted(_told(world, moved)) == sorted(RECIPIENTS)


def _told(world: ChaosWorld, text: str) -> list[str]:
    """Recipients of the e-mails delivered that say `text`."""
    told = []
    for path in world.outbox.messages():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        part = message.get_body(("plain",))
        if part is not None and text in part.get_content():
            told.append(str(message["to"]))
    return told
