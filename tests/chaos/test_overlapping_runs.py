"""Overlapping runs of one config — scheduled (full), on demand, webhook-triggered (one
release) — started at once in separate processes, on SQLite and on PostgreSQL, with and
without Jira losing the replies to its writes."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.chaos import ChaosWorld, Check
from sandbox.chaos_world import RECIPIENTS, WRITES, FaultPlan
from sandbox.faults import Fault, FaultKind


def test_runs_started_together_open_one_ticket_and_send_one_alert_each(
    make_world: Callable[[str | None], ChaosWorld], fresh_state_url: Callable[[], str]
) -> None:
    world = make_world(fresh_state_url())
    # The waiting ones act one after another once the lock frees; on a loaded 2-core
    # machine three runs in a row took over 30 s. Waiting longer costs nothing when quick.
    wait = 120.0
    specs = [
        world.spec("full", lock_wait_seconds=wait),
        world.spec("plain", lock_wait_seconds=wait),
        world.spec("targeted", ("104",), lock_wait_seconds=wait),
        world.spec("plain"),  # does not wait: acts if it wins the lock, else stops cleanly
    ]
    assert world.run_together(specs) == [0, 0, 0, 0]
    acted = [world.result_of(spec) for spec in specs]
    assert sum(r is not None and r["skipped"] is None for r in acted) >= 3
    assert world.check(final=True) == Check()
    divergences = len(world.expected())
    assert len(world.outbox.messages()) == divergences * len(RECIPIENTS)


def test_runs_started_together_under_lost_replies_still_tell_each_divergence_once(
    make_world: Callable[[str | None], ChaosWorld], fresh_state_url: Callable[[], str]
) -> None:
    # Jira acts on every write, then loses the reply (twice per route): each waiting run
    # may retry a create or comment another run's lost reply left behind.
    world = make_world(fresh_state_url())
    lost = [
        Fault(kind=FaultKind.DROP, method=method, path=path, after=True, times=2)
        for method, path in WRITES.values()
    ]
    world.arm(FaultPlan(jira=lost))
    specs = [world.spec(kind, lock_wait_seconds=120.0) for kind in ("full", "plain", "plain")]
    assert world.run_together(specs) == [0, 0, 0]
    assert sum(world.disarm(FaultPlan(jira=lost)).values()) > 0  # the faults were hit
    assert world.settle() == 0  # a clean run finishes what the faults interrupted
    assert world.check(final=True) == Check()
    assert len(world.outbox.messages()) == len(world.expected()) * len(RECIPIENTS)
