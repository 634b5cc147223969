"""Seeded chaos schedules: faults in both emulators, crashes, world changes, then a clean run.

`python -m benchmarks.chaos --runs 200` runs the long version of the same harness.
"""

from __future__ import annotations

from sandbox.chaos import ChaosWorld, run_schedule


def test_a_seeded_schedule_never_duplicates_nor_misses(
    world: ChaosWorld, reference: ChaosWorld
) -> None:
    result = run_schedule(world, seed=14, runs=3, crash_chance=0.8, reference=reference)
    assert sum(result.faults.values()) > 0 and result.crashes > 0  # the chaos did happen
    assert result.duplicate_tickets == 0  # after every run, not only at the end
    assert result.duplicate_alerts == 0
    assert result.final.missed == []  # the clean run left exactly the reference world
    assert result.final.lost_alerts == []  # every alert delivered or reported unconfirmed
    # Users see what the same edits and runs without any fault or crash left behind.
    assert result.unlike_reference == []
