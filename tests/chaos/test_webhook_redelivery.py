"""Jira webhooks arriving late, out of order and twice never open a second ticket or alert.

The Jira emulator's deliveries go through the real receiver (`deployments.webhooks`) over
a socket; its notices, deduplicated by their deterministic id as the Prefect server does,
start targeted sync processes (see `sandbox.chaos_webhooks`).
"""

from __future__ import annotations

import datetime as dt
import random

from sandbox.chaos import ChaosWorld, Check

SEED = 36  # shuffles the first burst, then restarts the receiver before a redelivery


def _moved(world: ChaosWorld, version_id: str, days: int) -> None:
    jira = world.running.jira
    was = dt.date.fromisoformat(jira.versions[version_id]["releaseDate"])
    jira.move_version(version_id, was + dt.timedelta(days=days))


def test_redelivered_and_reordered_webhooks_never_duplicate_a_ticket_or_alert(
    world: ChaosWorld,
) -> None:
    assert world.run(world.spec("plain")) == 0
    mails = len(world.outbox.messages())
    _moved(world, "102", 3)  # both slip; Jira's first deliveries fail (receiver down)
    _moved(world, "104", 2)
    rng = random.Random(SEED)
    releases, counts = world.courier.deliver(rng)  # Jira's retries: shuffled, one twice
    assert releases == ("102", "104")
    assert counts["webhook out of order"] == 2 and counts["webhook redelivered"] == 1
    assert world.run(world.spec("targeted", releases)) == 0
    assert world.check() == Check()
    told, tickets = len(world.outbox.messages()), len(world.running.jira.issues)
    assert told > mails  # the slips were told

    # The receiver restarts and forgets; an old delivery comes again and gets through.
    again, counts = world.courier.deliver(rng)
    assert again and counts["webhook receiver restarted"] == 1
    assert world.run(world.spec("targeted", again)) == 0
    assert world.check() == Check()
    assert len(world.outbox.messages()) == told  # nothing told twice
    assert len(world.running.jira.issues) == tickets  # no second ticket
    assert world.check(final=True) == Check()  # and every alert was delivered once
    assert len(world.outbox.messages()) == told == len(world.journal_lines())  # one each
