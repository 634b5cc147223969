"""The chaos suite's fault kinds against the real connectors, one at a time and fast.

A held request, a wrong-shaped JSON body and a proxy's HTML page are retried like any
transient failure; one that never clears ends as a one-line ConnectorError naming the
call, never a traceback and never a silently short list of releases.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from models.errors import ConnectorError
from sandbox.chaos_world import LIST_BODY
from sandbox.faults import WRONG_SHAPE_BODY, Fault, FaultKind
from tests.connectors.test_jira_tickets import divergence
from tests.factories import day
from tests.fixtures.google import StartCalendar, google_event
from tests.fixtures.jira import StartJira, jira_seed, jira_version

VERSIONS = r"/project/PROJ/versions?$"
ANSWERS_OF_THE_WRONG_SHAPE = {
    "strings for lists": Fault(kind=FaultKind.WRONG_SHAPE, path=VERSIONS, times=2),
    "a list for an object": Fault(
        kind=FaultKind.WRONG_SHAPE, path=VERSIONS, body=LIST_BODY, times=2
    ),
    "a proxy's HTML, 200": Fault(kind=FaultKind.HTML, path=VERSIONS, status=200, times=2),
    "a proxy's HTML, 502": Fault(kind=FaultKind.HTML, path=VERSIONS, status=502, times=2),
}


def _versions() -> list[dict[str, Any]]:
    return [jira_version(str(100 + i), f"2.{i}", day(10 + i)) for i in range(3)]


@pytest.mark.parametrize(
    "fault", ANSWERS_OF_THE_WRONG_SHAPE.values(), ids=list(ANSWERS_OF_THE_WRONG_SHAPE)
)
def test_a_wrong_answer_is_retried_not_read_as_fewer_releases(
    jira_sandbox: StartJira, fault: Fault
) -> None:
    running = jira_sandbox(jira_seed(_versions()))
    running.sandbox.faults.add(fault)
    batch = running.source().releases(None)
    assert sorted(r.name for r in batch.items) == ["2.0", "2.1", "2.2"]
    assert batch.problems == ()
    assert running.sandbox.faults.faults == []  # both wrong answers were met, then retried


def test_an_answer_that_stays_wrong_is_one_clear_error(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed(_versions()))
    running.sandbox.faults.add(Fault(kind=FaultKind.WRONG_SHAPE, path=VERSIONS, times=None))
    with pytest.raises(ConnectorError) as raised:
        running.source().releases(None)
    message = str(raised.value)
    assert "versions of PROJ" in message and "malformed body" in message
    assert "\n" not in message and WRONG_SHAPE_BODY not in message


def test_a_read_held_past_the_client_timeout_costs_about_one_timeout(
    jira_sandbox: StartJira,
) -> None:
    running = jira_sandbox(jira_seed(_versions()))
    source = running.source(timeout=0.5)
    source.releases(None)  # signed in: the held request below is the versions read
    running.sandbox.faults.add(Fault(kind=FaultKind.TIMEOUT, path=VERSIONS, delay_seconds=1.5))
    started = time.monotonic()
    batch = source.releases(None)
    assert len(batch.items) == 3
    assert time.monotonic() - started < 1.4  # one timeout, not the hold nor 30 s


def test_a_create_whose_reply_times_out_is_found_again_not_made_twice(
    jira_sandbox: StartJira,
) -> None:
    running = jira_sandbox(jira_seed())
    hold = Fault(kind=FaultKind.TIMEOUT, method="POST", path="/issue$", after=True, delay_seconds=1)
    running.sandbox.faults.add(hold)
    ref = running.sink(timeout=0.5).open(divergence())
    assert (ref.key, sorted(k for k in running.sandbox.issues if k.startswith("OPS-"))) == (
        "OPS-1",
        ["OPS-1"],
    )


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind=FaultKind.WRONG_SHAPE, path="/events$", body=LIST_BODY, times=2),
        Fault(kind=FaultKind.WRONG_SHAPE, path="/events$", body=WRONG_SHAPE_BODY, times=2),
        Fault(kind=FaultKind.HTML, path="/events$", status=200, times=2),
        Fault(kind=FaultKind.HTML, path="/events$", status=502, times=2),
        Fault(kind=FaultKind.TIMEOUT, path="/events$", delay_seconds=1),
    ],
    ids=[
        "a list for an object",
        "a string for the items",
        "HTML, 200",
        "HTML, 502",
        "held past the timeout",
    ],
)
def test_google_events_survive_a_wrong_answer(google_sandbox: StartCalendar, fault: Fault) -> None:
    calendar = "marketing@example.com"
    running = google_sandbox({calendar: [google_event("ev1", day(20), "Launch")]})
    running.sandbox.faults.add(fault)
    batch = running.source((calendar,), timeout=0.5).events(None)
    assert [e.id for e in batch.items] == ["ev1"]
    assert running.sandbox.faults.faults == []
