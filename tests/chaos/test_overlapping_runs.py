"""Overlapping runs of one config — scheduled (full), on demand, webhook-triggered (one
release) — started at once in separate processes, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.chaos import ChaosWorld, Check
from sandbox.chaos_world import RECIPIENTS


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
