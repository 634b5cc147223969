"""The Jira emulator answers the real `jira` client like Jira Cloud and Server/DC do."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import httpx
import pytest
from jira import JIRA, JIRAError

from sandbox.jira import JiraSandbox, load_seed
from tests.fixtures.jira import (
    API_TOKEN,
    EMAIL,
    PROJECT,
    StartJira,
    jira_issue,
    jira_seed,
    jira_version,
    many_issues,
    many_versions,
)
from tests.fixtures.receivers import HttpReceiver

DAY = dt.date(2026, 5, 1)


def test_the_client_pages_through_1200_versions_and_issues(
    jira_sandbox: StartJira, deployment: str
) -> None:
    running = jira_sandbox(jira_seed(many_versions(1200), many_issues(1200), deployment))
    client = running.client()
    assert client.deploymentType == deployment
    assert len(client.project_versions(PROJECT)) == 1200
    found = client.search_issues(
        f"project = {PROJECT} ORDER BY key ASC", maxResults=0, fields="summary"
    )
    assert [i.key for i in found][:2] == ["PROJ-1", "PROJ-2"]
    assert len({i.key for i in found}) == 1200


def test_paginated_versions_follow_the_page_bean(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed(many_versions(120)))
    page = httpx.get(
        f"{running.url}/rest/api/2/project/{PROJECT}/version",
        params={"startAt": 100, "maxResults": 50},
        auth=(EMAIL, API_TOKEN),
    ).json()
    assert (page["startAt"], page["total"], page["isLast"], len(page["values"])) == (
        100,
        120,
        True,
        20,
    )
    assert page["values"][0]["self"] == f"{running.url}/rest/api/2/version/30100"


def test_cloud_has_no_old_search_and_server_no_new_one(jira_sandbox: StartJira) -> None:
    cloud = jira_sandbox(jira_seed(issues=many_issues(3)))
    server = jira_sandbox(jira_seed(issues=many_issues(3), deployment="Server"))
    auth = (EMAIL, API_TOKEN)
    assert (
        httpx.get(
            f"{cloud.url}/rest/api/2/search", params={"jql": "project = PROJ"}, auth=auth
        ).status_code
        == 410
    )
    v3 = httpx.get(
        f"{cloud.url}/rest/api/3/search/jql",
        params={"jql": "project = PROJ", "maxResults": 2},
        auth=auth,
    )
    assert v3.json()["nextPageToken"] and len(v3.json()["issues"]) == 2
    assert (
        httpx.get(f"{server.url}/rest/api/2/search/jql", params={"jql": "x"}, auth=auth).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("jql", "keys"),
    [
        ('project = "PROJ" AND labels = launch', ["PROJ-1", "PROJ-2", "PROJ-3"]),
        ("labels in (beta) OR key = PROJ-3", ["PROJ-2", "PROJ-3"]),
        ("fixVersion = '2.0'", ["PROJ-1"]),
        ('updated >= "2026-02-01 00:00"', ["PROJ-3"]),
        ("key in (PROJ-1, proj-2) AND NOT labels = beta", ["PROJ-1"]),
        ('(labels = beta OR labels = gamma) AND project in (PROJ, "OPS")', ["PROJ-2"]),
        ('"Launch date" <= 2026-05-01', ["PROJ-1"]),
        ("duedate is EMPTY", ["PROJ-3"]),
        ("labels != beta ORDER BY key DESC", ["PROJ-3", "PROJ-1"]),
    ],
)
def test_jql_subset_matches_like_jira(jira_sandbox: StartJira, jql: str, keys: list[str]) -> None:
    issues = [
        jira_issue(
            "PROJ-1", DAY, fixVersions=[{"id": "11", "name": "2.0"}], customfield_10015="2026-04-30"
        ),
        jira_issue("PROJ-2", DAY, labels=("launch", "beta")),
        jira_issue("PROJ-3", None, updated="2026-02-02T10:00:00.000+0000"),
    ]
    running = jira_sandbox(jira_seed(issues=issues))
    found = running.client().search_issues(jql, maxResults=0, fields="summary")
    ordered = [i.key for i in found]
    assert ordered == keys if "ORDER BY" in jql else sorted(ordered) == keys


@pytest.mark.parametrize(
    "jql",
    [
        "summary ~ launch",
        "assignee = currentUser()",
        "sprint in openSprints()",
        "nosuchfield = 1",
        "project > PROJ",
        "updated >= yesterday",
        "project = PROJ ORDER BY nosuchfield",
    ],
)
def test_an_unsupported_clause_is_a_400_in_jiras_error_shape(
    jira_sandbox: StartJira, jql: str
) -> None:
    running = jira_sandbox(jira_seed(issues=many_issues(2)))
    answer = httpx.get(
        f"{running.url}/rest/api/3/search/jql", params={"jql": jql}, auth=(EMAIL, API_TOKEN)
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["errors"] == {} and body["errorMessages"][0]


def test_wrong_or_missing_credentials_are_401(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed())
    url = f"{running.url}/rest/api/2/myself"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, auth=(EMAIL, "wrong")).json()["errorMessages"]
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.get(url, auth=(EMAIL, API_TOKEN)).status_code == 200
    with pytest.raises(JIRAError) as refused:
        JIRA(running.url, basic_auth=(EMAIL, "wrong"), max_retries=0)
    assert refused.value.status_code == 401


def test_issue_lifecycle_through_the_client(jira_sandbox: StartJira, deployment: str) -> None:
    running = jira_sandbox(jira_seed(deployment=deployment))
    client = running.client()
    issue = client.create_issue(
        project={"key": "OPS"},
        issuetype={"name": "Task"},
        summary="Dates moved",
        labels=["x"],
        prefetch=False,
    )
    assert issue.key == "OPS-1"
    client.issue(issue.key).update(fields={"labels": ["x", "y"]})
    client.add_comment(issue.key, "PROJ 2.0 moved")
    client.add_issue_property(issue.key, "launchsync.divergence", {"identity": "a"})
    client.transition_issue(issue.key, "Done")
    again = client.issue(issue.key, expand="changelog")
    assert again.fields.status.statusCategory.key == "done"
    assert again.fields.labels == ["x", "y"]
    assert [c.body for c in client.comments(issue.key)] == ["PROJ 2.0 moved"]
    assert client.issue_property(issue.key, "launchsync.divergence").value.identity == "a"
    assert [h.items[0].field for h in again.changelog.histories] == ["labels", "status"]


def test_create_refuses_a_ticket_without_summary(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed())
    with pytest.raises(JIRAError) as refused:
        running.client().create_issue(
            project={"key": "OPS"}, issuetype={"name": "Task"}, summary=""
        )
    assert refused.value.status_code == 400 and "summary" in refused.value.text


def test_a_ui_date_change_records_author_and_time(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed(issues=[jira_issue("PROJ-1", DAY)]))
    when = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)
    pm = {
        "displayName": "Pat PM",
        "emailAddress": "pat@example.com",
        "accountId": "pat",
        "name": "pat",
    }
    running.sandbox.move_issue_date("PROJ-1", "duedate", dt.date(2026, 6, 1), author=pm, at=when)
    log = httpx.get(
        f"{running.url}/rest/api/2/issue/PROJ-1/changelog", auth=(EMAIL, API_TOKEN)
    ).json()
    (entry,) = log["values"]
    assert entry["author"]["emailAddress"] == "pat@example.com"
    assert entry["created"] == "2026-03-02T15:30:00.000+0000"
    assert (
        entry["items"][0] | {} == entry["items"][0]
        and entry["items"][0]["toString"] == "2026-06-01"
    )
    assert running.sandbox.issues["PROJ-1"]["fields"]["updated"] == entry["created"]


def test_version_update_through_the_client_is_kept(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed([jira_version("11", "2.0", DAY)]))
    version = running.client().version("11")
    version.update(releaseDate="2026-06-15", released=True)
    assert running.sandbox.versions["11"]["releaseDate"] == "2026-06-15"
    assert running.sandbox.versions["11"]["released"] is True


def test_webhooks_are_signed_and_keep_their_identifier_on_redelivery(
    jira_sandbox: StartJira, http_receiver: HttpReceiver
) -> None:
    seed = jira_seed([jira_version("11", "2.0", DAY)], [jira_issue("PROJ-1", DAY)])
    seed["webhooks"] = [{"url": f"{http_receiver.url}/hook", "secret": "s3cret", "events": []}]
    running = jira_sandbox(seed)
    running.sandbox.move_version("11", dt.date(2026, 6, 1))
    running.sandbox.release_version("11")
    running.client().issue("PROJ-1").update(fields={"duedate": "2026-07-01"})
    running.sandbox.wait_webhooks()
    events = [r.json()["webhookEvent"] for r in http_receiver.requests]
    assert events == [
        "jira:version_updated",
        "jira:version_updated",
        "jira:version_released",
        "jira:issue_updated",
    ]
    for request in http_receiver.requests:
        expected = "sha256=" + hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-hub-signature"] == expected
    issue_hook = http_receiver.requests[-1].json()
    assert issue_hook["changelog"]["items"][0]["fieldId"] == "duedate"
    assert issue_hook["issue"]["key"] == "PROJ-1" and issue_hook["user"] and issue_hook["timestamp"]
    first_ids = [r.headers["x-atlassian-webhook-identifier"] for r in http_receiver.requests[-2:]]
    httpx.post(f"{running.url}/_jira/webhooks/redeliver", json={"last": 2})
    running.sandbox.wait_webhooks()
    again = http_receiver.requests[-2:]
    assert [r.headers["x-atlassian-webhook-identifier"] for r in again] == first_ids
    assert [r.body for r in again] == [r.body for r in http_receiver.requests[-4:-2]]
    assert all(r.headers["x-atlassian-webhook-retry"] == "1" for r in again)


def test_webhooks_registered_at_run_time_filter_events(
    jira_sandbox: StartJira, http_receiver: HttpReceiver
) -> None:
    running = jira_sandbox(jira_seed([jira_version("11", "2.0", DAY)]))
    hook = {"url": http_receiver.url, "secret": "k", "events": ["jira:version_released"]}
    httpx.post(f"{running.url}/_jira/webhooks", json=hook)
    running.sandbox.move_version("11", dt.date(2026, 6, 1))
    running.sandbox.release_version("11")
    running.sandbox.wait_webhooks()
    assert [json.loads(r.body)["webhookEvent"] for r in http_receiver.requests] == [
        "jira:version_released"
    ]


def test_the_example_seed_loads(tmp_path: object) -> None:
    sandbox = load_seed("examples/seed")
    assert isinstance(sandbox, JiraSandbox) and "ATL-101" in sandbox.issues


def test_faults_set_over_the_admin_endpoint_are_served_then_cleared(
    jira_sandbox: StartJira,
) -> None:
    running = jira_sandbox(jira_seed())
    url, auth = f"{running.url}/rest/api/2/myself", (EMAIL, API_TOKEN)
    fault = {"kind": "status", "status": 429, "retry_after": 2, "path": "/myself$", "times": 1}
    assert httpx.post(f"{running.url}/_sandbox/faults", json=fault).status_code < 300
    limited = httpx.get(url, auth=auth)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    assert httpx.get(url, auth=auth).status_code == 200  # `times: 1` is spent
    forever = fault | {"status": 503, "times": None}
    httpx.post(f"{running.url}/_sandbox/faults", json=forever)
    assert httpx.get(url, auth=auth).status_code == 503
    assert httpx.delete(f"{running.url}/_sandbox/faults").status_code < 300
    assert httpx.get(url, auth=auth).status_code == 200
