"""The emulator's answers fit Atlassian's OpenAPI document for the Jira platform REST API.

v2 answers are checked against the v3 operation of the same path: the shapes are the
same except rich text (description, comment body), a plain string in v2 and ADF in v3;
the v3 schemas leave those open, so no special case is needed here.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.fixtures.jira import (
    API_TOKEN,
    EMAIL,
    RunningJira,
    StartJira,
    jira_issue,
    jira_seed,
    many_versions,
)

SPEC = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "contracts"
    / "jira-platform-openapi-v3.json"
)
pytestmark = pytest.mark.skipif(
    not SPEC.exists(),
    reason=f"Atlassian's OpenAPI document is not at {SPEC} (it ships in ../shared/contracts/)",
)
URN = "urn:jira-platform"


@cache
def registry() -> Registry:
    """The whole OpenAPI document as one resource, so `#/components/...` refs resolve."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    return Registry().with_resource(URN, Resource.from_contents(spec, default_specification=DRAFT4))


def check(answer: httpx.Response, path: str, method: str = "get") -> None:
    """Validate a response body against the v3 operation's schema for its status."""
    status = str(answer.status_code)
    parts = ("paths", path, method, "responses", status, "content", "application/json", "schema")
    if answer.status_code >= 400:  # the document gives errors one shared schema
        parts = ("components", "schemas", "ErrorCollection")
    pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)
    validator = Draft4Validator({"$ref": f"{URN}#/{pointer}"}, registry=registry())
    errors = sorted(validator.iter_errors(answer.json()), key=lambda e: list(e.path))
    assert not errors, (
        f"{method.upper()} {path} {status}: {errors[0].message} at {list(errors[0].path)}"
    )


@pytest.fixture
def running(jira_sandbox: StartJira) -> RunningJira:
    """A Cloud sandbox with versions, an issue with a custom date, a comment and history."""
    issue = jira_issue("PROJ-1", dt.date(2026, 5, 1), customfield_10015="2026-05-02")
    started = jira_sandbox(jira_seed(many_versions(3), [issue]))
    started.sandbox.move_issue_date("PROJ-1", "duedate", dt.date(2026, 6, 1))
    return started


def get(running: RunningJira, path: str, **params: Any) -> httpx.Response:
    """GET on the emulator, signed in."""
    return httpx.get(f"{running.url}{path}", params=params, auth=(EMAIL, API_TOKEN))


@pytest.mark.parametrize(
    ("path", "params", "operation"),
    [
        ("/rest/api/2/serverInfo", {}, "/rest/api/3/serverInfo"),
        ("/rest/api/2/field", {}, "/rest/api/3/field"),
        ("/rest/api/2/myself", {}, "/rest/api/3/myself"),
        (
            "/rest/api/2/mypermissions",
            {"projectKey": "OPS", "permissions": "CREATE_ISSUES,TRANSITION_ISSUES"},
            "/rest/api/3/mypermissions",
        ),
        ("/rest/api/2/mypermissions", {}, "/rest/api/3/mypermissions"),
        (
            "/rest/api/2/mypermissions",
            {"projectKey": "NOPE", "permissions": "CREATE_ISSUES"},
            "/rest/api/3/mypermissions",
        ),
        ("/rest/api/2/project/PROJ", {}, "/rest/api/3/project/{projectIdOrKey}"),
        ("/rest/api/2/project/PROJ/versions", {}, "/rest/api/3/project/{projectIdOrKey}/versions"),
        (
            "/rest/api/2/project/PROJ/version",
            {"maxResults": 2},
            "/rest/api/3/project/{projectIdOrKey}/version",
        ),
        ("/rest/api/2/version/30001", {}, "/rest/api/3/version/{id}"),
        (
            "/rest/api/3/search/jql",
            {"jql": "project = PROJ", "fields": "*all", "maxResults": 1},
            "/rest/api/3/search/jql",
        ),
        ("/rest/api/2/issue/PROJ-1", {"expand": "changelog"}, "/rest/api/3/issue/{issueIdOrKey}"),
        ("/rest/api/2/issue/PROJ-1/comment", {}, "/rest/api/3/issue/{issueIdOrKey}/comment"),
        (
            "/rest/api/2/issue/PROJ-1/transitions",
            {},
            "/rest/api/3/issue/{issueIdOrKey}/transitions",
        ),
        ("/rest/api/2/issue/PROJ-1/properties", {}, "/rest/api/3/issue/{issueIdOrKey}/properties"),
        ("/rest/api/2/issue/PROJ-1/changelog", {}, "/rest/api/3/issue/{issueIdOrKey}/changelog"),
        ("/rest/api/3/search/jql", {"jql": "summary ~ x"}, "/rest/api/3/search/jql"),
        ("/rest/api/2/issue/NOPE-1", {}, "/rest/api/3/issue/{issueIdOrKey}"),
    ],
)
def test_reads_fit_the_published_schemas(
    running: RunningJira, path: str, params: dict[str, Any], operation: str
) -> None:
    check(get(running, path, **params), operation)


def test_writes_fit_the_published_schemas(running: RunningJira) -> None:
    auth = (EMAIL, API_TOKEN)
    created = httpx.post(
        f"{running.url}/rest/api/2/issue",
        auth=auth,
        json={"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "s"}},
    )
    check(created, "/rest/api/3/issue", "post")
    comment = httpx.post(
        f"{running.url}/rest/api/2/issue/OPS-1/comment", auth=auth, json={"body": "hi"}
    )
    check(comment, "/rest/api/3/issue/{issueIdOrKey}/comment", "post")
    version = httpx.put(
        f"{running.url}/rest/api/2/version/30001", auth=auth, json={"releaseDate": "2026-07-01"}
    )
    check(version, "/rest/api/3/version/{id}", "put")
    httpx.put(f"{running.url}/rest/api/2/issue/OPS-1/properties/k", auth=auth, json={"a": 1})
    check(
        get(running, "/rest/api/2/issue/OPS-1/properties/k"),
        "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}",
    )
    refused = httpx.post(f"{running.url}/rest/api/2/issue", auth=auth, json={"fields": {}})
    check(refused, "/rest/api/3/issue", "post")


def test_writes_a_project_denies_are_refused_with_the_documented_status(
    jira_sandbox: StartJira,
) -> None:
    writes = ["CREATE_ISSUES", "EDIT_ISSUES", "ADD_COMMENTS", "TRANSITION_ISSUES"]
    running = jira_sandbox(
        jira_seed(issues=[jira_issue("OPS-1", None)], denied_permissions={"OPS": writes})
    )
    auth, api = (EMAIL, API_TOKEN), f"{running.url}/rest/api/2"
    fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "s"}
    refused = {
        ("post", "/rest/api/3/issue"): httpx.post(
            f"{api}/issue", auth=auth, json={"fields": fields}
        ),
        ("put", "/rest/api/3/issue/{issueIdOrKey}"): httpx.put(
            f"{api}/issue/OPS-1", auth=auth, json={"fields": {"summary": "t"}}
        ),
        ("post", "/rest/api/3/issue/{issueIdOrKey}/comment"): httpx.post(
            f"{api}/issue/OPS-1/comment", auth=auth, json={"body": "hi"}
        ),
        ("post", "/rest/api/3/issue/{issueIdOrKey}/transitions"): httpx.post(
            f"{api}/issue/OPS-1/transitions", auth=auth, json={"transition": {"id": "31"}}
        ),
        ("put", "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}"): httpx.put(
            f"{api}/issue/OPS-1/properties/k", auth=auth, json={"a": 1}
        ),
    }
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    for (method, path), answer in refused.items():
        assert answer.status_code in (400, 403), (method, path, answer.status_code)
        assert str(answer.status_code) in spec["paths"][path][method]["responses"], (method, path)
        assert "permission in OPS" in answer.json()["errorMessages"][0]
        check(answer, path, method)
    issue = get(running, "/rest/api/2/issue/OPS-1").json()
    assert issue["fields"]["summary"] == "Feature OPS-1"  # nothing was half-written
    assert get(running, "/rest/api/2/issue/OPS-1/comment").json()["total"] == 0
    fields["project"] = {"key": "PROJ"}  # another project's permissions are untouched
    assert httpx.post(f"{api}/issue", auth=auth, json={"fields": fields}).status_code == 201


def test_server_search_fits_the_search_results_schema(jira_sandbox: StartJira) -> None:
    running = jira_sandbox(jira_seed(issues=[jira_issue("PROJ-1", None)], deployment="Server"))
    check(get(running, "/rest/api/2/search", jql="project = PROJ"), "/rest/api/3/search")
