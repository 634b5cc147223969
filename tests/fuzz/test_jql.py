"""Values put into JQL stay values: quotes, spaces and `OR` cannot widen a search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.jira_client import and_jql, quote
from connectors.jira_tickets import marker_label
from models.errors import LaunchsyncError
from sandbox.jira import JiraSandbox
from sandbox.jira.jql import BoolOp, Clause, parse
from sandbox.server import ServedApp
from tests.fixtures.jira import RunningJira, jira_issue, jira_seed
from tests.fuzz.strategies import FUZZ, SLOW_FUZZ, any_char

INJECTIONS = [
    'PROJ" OR project = "OPS',
    "PROJ' OR project = 'OPS",
    'PROJ\\" OR project = \\"OPS',
    "PROJ OR project = OPS",
    'PROJ") OR (project = "OPS',
    'x" OR labels is not EMPTY OR key = "y',
    "\\",
    'trailing backslash \\"',
    "line\nbreak OR project = OPS",
]
# Jira strips no characters from a quoted value except the newline quote() turns to a space.
values = st.sampled_from(INJECTIONS) | st.text(
    st.characters(codec="utf-8", exclude_characters="\n"), max_size=40
)


def expected(value: str) -> str:
    return value.replace("\n", " ")


@FUZZ
@given(values, values)
def test_quoted_values_parse_back_as_exactly_one_value_each(project: str, label: str) -> None:
    """The sandbox's JQL parser reads what the ticket search builds as two plain clauses."""
    jql = f"project = {quote(project)} AND labels = {quote(label)} ORDER BY created ASC"
    where = parse(jql).where
    assert where == BoolOp(
        "and",
        (Clause("project", "=", (expected(project),)), Clause("labels", "=", (expected(label),))),
    )


@FUZZ
@given(values)
def test_the_watermark_condition_cannot_escape_its_parentheses(value: str) -> None:
    """`(jql) AND updated >= "..."`: the user's ORDER BY stays last, the value stays one."""
    query = parse(and_jql("labels = launch ORDER BY key", f"updated >= {quote(value)}"))
    assert query.order == (("key", False),)
    assert isinstance(query.where, BoolOp) and query.where.parts[-1] == Clause(
        "updated", ">=", (expected(value),)
    )


OTHER_TICKET = "OPS-1"
IDENTITY = "date_mismatch|11|cal/e1"


@pytest.fixture(scope="module")
def ticket_jira() -> Iterator[RunningJira]:
    """A Jira sandbox whose OPS project holds the open ticket of IDENTITY."""
    marked = jira_issue(OTHER_TICKET, labels=["launchsync", marker_label(IDENTITY)])
    sandbox = JiraSandbox(jira_seed(issues=[marked]))
    with ServedApp(sandbox.app) as served:
        yield RunningJira(sandbox, served)


def test_the_ticket_is_found_in_its_own_project(ticket_jira: RunningJira) -> None:
    """The positive control: the search below would find OPS-1 if a value escaped."""
    assert ticket_jira.sink(ticket_project="OPS").find(IDENTITY) == OTHER_TICKET


@SLOW_FUZZ
@given(st.sampled_from(INJECTIONS) | st.text(any_char.filter(lambda c: c != "\n"), max_size=20))
def test_a_hostile_ticket_project_never_finds_another_projects_ticket(
    ticket_jira: RunningJira, project: str
) -> None:
    """Against the Jira sandbox (real `jira` client, real socket, JQL evaluated there)."""
    try:
        found = ticket_jira.sink(ticket_project=project).find(IDENTITY)
    except LaunchsyncError as exc:  # no project given, or Jira's 400 for an unknown one
        assert "\n" not in str(exc)
        return
    assert found is None or project == "OPS"
