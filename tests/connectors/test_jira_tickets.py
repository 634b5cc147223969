"""Divergence tickets in Jira: one per identity, commented once per change, resolved."""

from __future__ import annotations

import pytest

from connectors.jira_settings import MARKER_PROPERTY
from connectors.jira_tickets import marker_label
from models.errors import ConnectorError
from models.plan import Divergence, DivergenceKind, Severity
from sandbox.faults import Fault
from tests.factories import day, version
from tests.fixtures.jira import API_TOKEN, RunningJira, StartJira, jira_seed


def divergence(delta: int = 3, severity: Severity = Severity.WARNING) -> Divergence:
    """A missing-launch divergence of PROJ 2.4 (same identity whatever the delta)."""
    return Divergence(
        kind=DivergenceKind.DATE_MISMATCH,
        severity=severity,
        release=version("2.4", day(20), id="11"),
        event=None,
        event_date=day(20 + delta),
        delta_days=delta,
        message=f"PROJ 2.4 launch is {delta} days after the release",
    )


def tickets(running: RunningJira) -> list[str]:
    """Keys of the issues in the ticket project."""
    return sorted(k for k in running.sandbox.issues if k.startswith("OPS-"))


def test_open_creates_one_marked_ticket_and_finds_it_again(
    jira_sandbox: StartJira, deployment: str
) -> None:
    running = jira_sandbox(jira_seed(deployment=deployment))
    sink = running.sink()
    first = sink.open(divergence())
    again = running.sink().open(divergence(delta=5))
    assert (first.key, first.created, again.key, again.created) == ("OPS-1", True, "OPS-1", False)
    assert first.url == f"{running.url}/browse/OPS-1"
    stored = running.sandbox.issues["OPS-1"]["fields"]
    assert stored["labels"] == ["launchsync", marker_label(divergence().identity)]
    assert stored["issuetype"]["name"] == "Task"
    assert running.sandbox.properties("OPS-1")[MARKER_PROPERTY]["identity"] == divergence().identity


def test_a_create_whose_reply_is_lost_is_not_made_twice(
    jira_sandbox: StartJira, deployment: str
) -> None:
    running = jira_sandbox(jira_seed(deployment=deployment))
    for kind, status in (("drop", 503), ("status", 502)):
        running.sandbox.faults.add(
            Fault.model_validate(
                {"kind": kind, "status": status, "path": "/issue$", "method": "POST", "after": True}
            )
        )
        ref = running.sink().open(divergence())
        assert ref.key == "OPS-1"
    assert tickets(running) == ["OPS-1"]


def test_a_rate_limited_create_is_retried(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed())
    running.sandbox.faults.add(
        Fault(kind="status", status=429, retry_after=0, path="/issue$", method="POST")
    )
    assert running.sink().open(divergence()).created
    assert tickets(running) == ["OPS-1"]


def test_a_crash_between_create_and_record_finds_the_ticket_on_rerun(
    jira_sandbox: StartJira,
) -> None:
    running = jira_sandbox(jira_seed())
    running.sandbox.faults.add(
        Fault(kind="status", status=500, times=None, path="/properties/", method="PUT")
    )
    with pytest.raises(ConnectorError):
        running.sink().open(divergence())  # created, then the property write keeps failing
    running.sandbox.faults.clear()
    ref = running.sink().open(divergence())
    assert (ref.key, ref.created, tickets(running)) == ("OPS-1", False, ["OPS-1"])
    assert running.sandbox.properties("OPS-1")[MARKER_PROPERTY]["identity"] == divergence().identity


def test_comment_once_per_fingerprint(jira_sandbox: StartJira, deployment: str) -> None:
    running = jira_sandbox(jira_seed(deployment=deployment))
    sink = running.sink()
    key = sink.open(divergence()).key
    assert sink.comment(key, divergence()) is False  # the ticket already says it
    assert sink.comment(key, divergence(delta=5)) is True
    assert sink.comment(key, divergence(delta=5)) is False
    (comment,) = running.sandbox.comments(key)
    assert "5 days after" in comment["body"] and divergence(delta=5).fingerprint in comment["body"]


def test_a_crash_between_comment_and_property_does_not_comment_twice(
    jira_sandbox: StartJira,
) -> None:
    running = jira_sandbox(jira_seed())
    sink = running.sink()
    key = sink.open(divergence()).key
    running.sandbox.faults.add(
        Fault(kind="status", status=500, times=None, path="/properties/", method="PUT")
    )
    with pytest.raises(ConnectorError):
        sink.comment(key, divergence(delta=5))
    running.sandbox.faults.clear()
    running.sandbox.faults.add(Fault(kind="drop", path="/comment$", method="POST", after=True))
    assert sink.comment(key, divergence(delta=5)) is False
    assert len(running.sandbox.comments(key)) == 1


def test_resolve_transitions_to_done_once(jira_sandbox: StartJira, deployment: str) -> None:
    running = jira_sandbox(jira_seed(deployment=deployment))
    sink = running.sink()
    key = sink.open(divergence()).key
    assert sink.resolve(key, divergence().identity) is True
    assert sink.resolve(key, divergence().identity) is False
    assert running.sandbox.issues[key]["fields"]["status"]["name"] == "Done"
    assert (
        sink.open(divergence()).key == "OPS-2"
    )  # it came back: a new ticket, the old one is closed


def test_resolve_names_a_done_status_the_workflow_lacks(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed())
    key = running.sink().open(divergence()).key
    with pytest.raises(
        ConnectorError, match=r"no transition to 'Closed'; set jira\.tickets\.done_status"
    ):
        running.sink(done_status="Closed").resolve(key, divergence().identity)


def test_labels_and_summary_carry_no_injection(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed())
    odd = divergence().model_copy(update={"message": 'x" OR project = "PROJ'})
    assert running.sink().open(odd).key == running.sink().open(odd).key == "OPS-1"


def test_missing_permissions_names_what_the_ticket_project_denies(
    jira_sandbox: StartJira, deployment: str
) -> None:
    running = jira_sandbox(
        jira_seed(deployment=deployment, denied_permissions={"OPS": ["TRANSITION_ISSUES"]})
    )
    assert running.sink().missing_permissions() == ["TRANSITION_ISSUES"]
    assert running.sink(ticket_project="PROJ").missing_permissions() == []


def test_a_refused_ticket_write_names_the_permission_jira_gave(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed(denied_permissions={"OPS": ["CREATE_ISSUES"]}))
    with pytest.raises(ConnectorError) as refused:
        running.sink().open(divergence())
    line = str(refused.value)
    assert "\n" not in line and "last status 403" in line
    assert "'Create Issues' permission in OPS" in line
    assert API_TOKEN not in line and "Authorization" not in line
