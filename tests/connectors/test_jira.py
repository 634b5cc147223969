"""The Jira release source reads versions and issues through the real client, over a socket."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from connectors.jira import JQL_CURSOR, project_cursor
from models.errors import ConfigError, ConnectorError
from models.release import ReleaseKind
from tests.fixtures.jira import (
    API_TOKEN,
    PROJECT,
    StartJira,
    jira_issue,
    jira_seed,
    jira_version,
    many_issues,
    many_versions,
)

DAY = dt.date(2026, 5, 1)


def test_a_full_read_pages_through_1200_versions_and_issues(
    jira_sandbox: StartJira, deployment: str
) -> None:
    running = jira_sandbox(jira_seed(many_versions(1200), many_issues(1200), deployment))
    batch = running.source(issue_jql="labels = launch").releases()
    kinds = [r.kind for r in batch.items]
    assert (kinds.count(ReleaseKind.VERSION), kinds.count(ReleaseKind.ISSUE)) == (1200, 1200)
    assert batch.complete and not batch.problems
    assert set(batch.cursor) == {project_cursor(PROJECT), JQL_CURSOR}
    paths = [p for _, p in running.requests()]
    assert paths.count(f"/rest/api/2/project/{PROJECT}/version") == 12
    search = "/rest/api/2/search/jql" if deployment == "Cloud" else "/rest/api/2/search"
    assert paths.count(search) == 12


def test_every_call_the_source_makes(jira_sandbox: StartJira, deployment: str) -> None:
    running = jira_sandbox(
        jira_seed([jira_version("11", "2.0", DAY)], [jira_issue("PROJ-1", DAY)], deployment)
    )
    running.source(issue_jql="project = PROJ", date_field="Launch date").releases()
    search = "/rest/api/2/search/jql" if deployment == "Cloud" else "/rest/api/2/search"
    assert running.requests() == [
        ("GET", "/rest/api/2/serverInfo"),
        ("GET", f"/rest/api/2/project/{PROJECT}/version"),
        ("GET", "/rest/api/2/field"),  # the date field given by name
        ("GET", "/rest/api/2/field"),  # the client's own field-name cache, once per client
        ("GET", search),
        ("GET", f"/rest/api/2/project/{PROJECT}"),  # its lead owns releases with no assignee
    ]


def test_a_release_keeps_its_date_url_and_owner(jira_sandbox: StartJira) -> None:
    issue = jira_issue(
        "PROJ-7",
        None,
        customfield_10015="2026-06-01",
        assignee={"emailAddress": "eng@example.com", "displayName": "Eng"},
    )
    running = jira_sandbox(jira_seed([jira_version("11", "2.0", DAY, released=True)], [issue]))
    batch = running.source(issue_jql="key = PROJ-7", date_field="customfield_10015").releases()
    version, found = batch.items
    assert (version.id, version.date, version.released) == ("11", DAY, True)
    assert version.url == f"{running.url}/projects/PROJ/versions/11"
    assert (found.id, found.date, found.owner) == ("PROJ-7", dt.date(2026, 6, 1), "eng@example.com")


def test_a_bad_item_is_a_problem_and_the_rest_still_read(jira_sandbox: StartJira) -> None:
    versions = [jira_version("11", "2.0", DAY), jira_version("12", "2.1", None, releaseDate="soon")]
    running = jira_sandbox(jira_seed(versions, [jira_issue("PROJ-1", DAY, duedate="31/12/2026")]))
    batch = running.source(issue_jql="project = PROJ").releases()
    assert [r.id for r in batch.items] == ["11"]
    assert [p.item for p in batch.problems] == ["version 2.1 of PROJ", "issue PROJ-1"]
    assert "YYYY-MM-DD" in batch.problems[0].error


def test_an_unknown_date_field_name_is_a_config_error(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed(issues=[jira_issue("PROJ-1", DAY)]))
    with pytest.raises(ConfigError, match=r"jira\.date_field: no field named 'Ship date'"):
        running.source(issue_jql="project = PROJ", date_field="Ship date").releases()


def test_an_incremental_read_with_nothing_changed_costs_one_request_per_unit(
    jira_sandbox: StartJira, deployment: str
) -> None:
    running = jira_sandbox(jira_seed(many_versions(300), many_issues(300), deployment))
    source = running.source(issue_jql="labels = launch")
    first = source.releases()
    source.releases(first.cursor)  # warms the client's one-off lookups (user's time zone)
    running.reset_requests()
    again = source.releases(first.cursor)
    assert len(running.requests()) == 2  # the project's version list, and one search
    assert not again.complete and again.cursor == first.cursor
    assert all(r.kind is ReleaseKind.ISSUE for r in again.items)  # only the watermark minute


def test_an_incremental_read_returns_what_changed(jira_sandbox: StartJira) -> None:
    issues = [
        jira_issue("PROJ-1", DAY, updated="2026-01-01T09:00:00.000+0000"),
        jira_issue("PROJ-2", DAY),
    ]
    clock = [dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)]
    running = jira_sandbox(jira_seed(many_versions(5), issues), clock=lambda: clock[0])
    source = running.source(issue_jql="project = PROJ")
    first = source.releases()
    running.sandbox.move_issue_date("PROJ-2", "duedate", dt.date(2026, 6, 1))
    running.sandbox.move_version("30003", dt.date(2026, 9, 9))
    delta = source.releases(first.cursor)
    assert {(r.id, r.date) for r in delta.items} >= {
        ("PROJ-2", dt.date(2026, 6, 1)),
        ("30003", dt.date(2026, 9, 9)),
    }
    assert {r.id for r in delta.items} == {
        "PROJ-2",
        *(f"3000{i}" for i in range(5)),
    }  # whole project
    assert delta.cursor[JQL_CURSOR].startswith("2026-03-01T12:00")


def test_a_version_added_turns_the_incremental_read_into_a_full_one(
    jira_sandbox: StartJira,
) -> None:
    running = jira_sandbox(jira_seed(many_versions(3)))
    source = running.source()
    first = source.releases()
    running.sandbox.store.add_project(
        {"key": PROJECT, "id": "10000", "versions": [jira_version("99", "9.0", DAY)]}
    )
    again = source.releases(first.cursor)
    assert again.complete and len(again.items) == 4


def test_date_changes_name_who_moved_an_issue_and_when(
    jira_sandbox: StartJira, deployment: str
) -> None:
    running = jira_sandbox(
        jira_seed(
            issues=[jira_issue("PROJ-1", DAY), jira_issue("PROJ-2", DAY)], deployment=deployment
        )
    )
    when = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)
    pm = {"displayName": "Pat", "emailAddress": "pat@example.com", "accountId": "p", "name": "pat"}
    running.sandbox.edit_issue("PROJ-1", summary="Renamed")
    running.sandbox.move_issue_date("PROJ-1", "duedate", dt.date(2026, 6, 1), author=pm, at=when)
    running.sandbox.edit_issue("PROJ-1", summary="Renamed again")
    source = running.source(issue_jql="project = PROJ")
    releases = list(source.releases().items)
    assert source.date_changes(releases) == {"PROJ-1": ("pat@example.com", when)}


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 429, "retry_after": 0},
        {"kind": "status", "status": 500},
        {"kind": "status", "status": 502},
        {"kind": "status", "status": 503, "times": 3},
        {"kind": "slow", "delay_seconds": 0.2},
        {"kind": "drop"},
        {"kind": "malformed"},
    ],
)
def test_a_read_survives_each_injected_fault(
    jira_sandbox: StartJira, deployment: str, fault: dict[str, object]
) -> None:
    running = jira_sandbox(jira_seed(many_versions(250), many_issues(250), deployment))
    for path in ("/version$", "/search", "/serverInfo"):
        running.sandbox.faults.add(*[_fault(fault, path)])
    batch = running.source(issue_jql="labels = launch").releases()
    assert len(batch.items) == 500 and not running.sandbox.faults.faults


def test_a_release_without_assignee_is_owned_by_its_project_lead(
    jira_sandbox: StartJira, deployment: str
) -> None:
    lead = {"emailAddress": "lead@example.com", "displayName": "Pat Lead"}
    assignee = {"accountId": "dev-1", "emailAddress": "dev@example.com", "displayName": "Dev"}
    seed = jira_seed(
        [jira_version("1", "2.4", DAY)],
        [jira_issue("PROJ-7", DAY, assignee=assignee), jira_issue("PROJ-8", DAY)],
        deployment,
    )
    seed["projects"][0]["lead"] = lead
    batch = jira_sandbox(seed).source(issue_jql="labels = launch").releases()
    owners = {r.id: r.owner for r in batch.items}
    assert owners == {
        "1": "lead@example.com",
        "PROJ-7": "dev@example.com",
        "PROJ-8": "lead@example.com",
    }


def test_a_hidden_project_lead_leaves_releases_unowned_and_still_read(
    jira_sandbox: StartJira,
) -> None:
    running = jira_sandbox(jira_seed([jira_version("1", "2.4", DAY)]))
    running.sandbox.faults.add(
        _fault({"kind": "status", "status": 403, "times": None}, "/project/PROJ$")
    )
    batch = running.source().releases()
    assert [(r.id, r.owner) for r in batch.items] == [("1", None)] and not batch.problems


def test_retry_waits_honour_retry_after_and_are_logged(
    jira_sandbox: StartJira, caplog: pytest.LogCaptureFixture
) -> None:
    from connectors.retry import RetryPolicy

    waits: list[float] = []
    policy = RetryPolicy(attempts=3, base_wait=0.0, max_wait=10.0, sleep=waits.append)
    running = jira_sandbox(jira_seed(many_versions(2)))
    running.sandbox.faults.add(
        _fault({"kind": "status", "status": 429, "retry_after": 7}, "/version$")
    )
    with caplog.at_level(logging.INFO, logger="launchsync.retry"):
        running.source(policy=policy).releases()
    assert waits == [7.0]
    assert "jira versions of PROJ: 429, retrying in 7.0s" in caplog.text


def test_a_read_that_keeps_failing_names_system_call_and_status(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed(many_versions(2)))
    running.sandbox.faults.add(
        _fault({"kind": "status", "status": 503, "times": None}, "/version$")
    )
    with pytest.raises(ConnectorError) as failed:
        running.source().releases()
    assert (failed.value.system, failed.value.call, failed.value.status) == (
        "jira",
        "versions of PROJ",
        503,
    )
    assert str(failed.value).startswith("jira versions of PROJ failed (last status 503)")


def test_refused_credentials_fail_at_once_without_the_secret(jira_sandbox: StartJira) -> None:
    from pydantic import SecretStr

    running = jira_sandbox(jira_seed())
    with pytest.raises(ConnectorError) as failed:
        running.source(api_token=SecretStr("wrong-" + API_TOKEN)).releases()
    assert failed.value.status == 401 and API_TOKEN not in str(failed.value)
    assert len(running.requests()) == 1


def test_jql_values_are_quoted_so_a_label_cannot_inject(jira_sandbox: StartJira) -> None:
    from connectors.jira_client import and_jql, quote

    assert quote('x" OR project = "OPS') == '"x\\" OR project = \\"OPS"'
    assert (
        and_jql("project = A ORDER BY key", 'updated >= "1"')
        == '(project = A) AND updated >= "1" ORDER BY key'
    )
    running = jira_sandbox(
        jira_seed(issues=[jira_issue("PROJ-1", DAY, labels=('x" OR project = "OPS',))])
    )
    sneaky = 'x" OR project = "OPS'
    running = jira_sandbox(jira_seed(issues=[jira_issue("PROJ-1", DAY, labels=(sneaky,))]))
    batch = running.source(issue_jql="labels = " + quote(sneaky)).releases()
    assert [r.id for r in batch.items] == ["PROJ-1"]


def _fault(fault: dict[str, object], path: str) -> object:
    from sandbox.faults import Fault

    return Fault.model_validate({**fault, "path": path})
