"""Divergence tickets in Jira: one per identity, found again by the marker it carries.

The marker is a label `launchsync-<sha of the identity>` (set in the create call itself,
so a ticket never exists without it) plus an issue property holding identity and the
last fingerprint told. Writes that Jira may have done before a failure (create,
comment, transition) are retried as "look, then write": a retry first looks for what
the earlier attempt may have left, so a lost reply never makes a second ticket or comment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from jira import JIRA

from connectors.base import TicketRef
from connectors.jira_client import JiraCalls, quote
from connectors.jira_settings import (
    MARKER_LABEL_PREFIX,
    MARKER_PROPERTY,
    TICKET_PERMISSIONS,
    JiraSettings,
)
from connectors.retry import RetryPolicy
from models.errors import ConfigError, ConnectorError
from models.plan import Divergence

FINGERPRINT_TAG = "launchsync-fingerprint:"
COMMENTS_PAGE = 100


def marker_label(identity: str) -> str:
    """The label that finds a divergence's ticket with JQL."""
    return MARKER_LABEL_PREFIX + hashlib.sha256(identity.encode()).hexdigest()[:12]


def fingerprint_line(fingerprint: str) -> str:
    """The line a comment carries so the same news is never posted twice."""
    return f"{FINGERPRINT_TAG} {fingerprint}"


class JiraTicketSink:
    """`TicketSink` over the `jira` client."""

    def __init__(
        self,
        settings: JiraSettings,
        policy: RetryPolicy | None = None,
        calls: JiraCalls | None = None,
    ) -> None:
        if not settings.ticket_project:
            raise ConfigError("jira.tickets.project: set the project tickets open in")
        self.settings = settings
        self.project = settings.ticket_project
        self.calls = calls or JiraCalls(settings, policy)

    def open(self, divergence: Divergence) -> TicketRef:
        """The divergence's open ticket, found by its marker or created now."""
        identity = divergence.identity
        made: list[str] = []

        def find_or_create(client: JIRA) -> str:
            found = self._find_in(client, identity)
            if found is not None:
                return found
            issue = client.create_issue(fields=self._new_ticket(divergence), prefetch=False)
            made.append(str(issue.key))
            return str(issue.key)

        key = self.calls.call("create issue", find_or_create)
        value = {"identity": identity, "fingerprint": divergence.fingerprint}
        self.calls.call(
            "set issue property", lambda c: c.add_issue_property(key, MARKER_PROPERTY, value)
        )
        return TicketRef(key, self.url(key), created=key in made)

    def url(self, ticket: str) -> str:
        """The ticket's page in Jira."""
        return f"{self.settings.url}/browse/{ticket}"

    def missing_permissions(self) -> list[str]:
        """The ticket permissions the account lacks in the ticket project (reads only)."""
        wanted = ",".join(TICKET_PERMISSIONS)
        answer = self.calls.call(
            "mypermissions", lambda c: c.my_permissions(projectKey=self.project, permissions=wanted)
        )
        held = answer.get("permissions") or {}
        return [p for p in TICKET_PERMISSIONS if not (held.get(p) or {}).get("havePermission")]

    def find(self, identity: str) -> str | None:
        """The key of the unresolved ticket marked with this identity, if any."""
        return self.calls.call("search issues", lambda c: self._find_in(c, identity))

    def _find_in(self, client: JIRA, identity: str) -> str | None:
        jql = (
            f"project = {quote(self.project)} AND labels = {quote(marker_label(identity))} "
            "AND statusCategory != Done ORDER BY created ASC"
        )
        for issue in self._search(client, jql):
            marked = (issue.get("properties") or {}).get(MARKER_PROPERTY) or {}
            if marked.get("identity") in (None, identity):  # None: crashed before the property
                return str(issue["key"])
        return None

    def comment(self, ticket: str, divergence: Divergence) -> bool:
        """Tell the ticket the divergence changed; False when this fingerprint was told."""
        marker = self._marker(ticket)
        if marker.get("fingerprint") == divergence.fingerprint:
            return False
        line = fingerprint_line(divergence.fingerprint)
        posted: list[bool] = []

        def look_then_comment(client: JIRA) -> None:
            if not any(line in str(c.get("body", "")) for c in self._comments(client, ticket)):
                client.add_comment(ticket, f"{divergence.message}\n\n{line}")
                posted.append(True)

        self.calls.call("add comment", look_then_comment)
        value = {"identity": divergence.identity, "fingerprint": divergence.fingerprint}
        self.calls.call(
            "set issue property", lambda c: c.add_issue_property(ticket, MARKER_PROPERTY, value)
        )
        return bool(posted)

    def resolve(self, ticket: str, identity: str) -> bool:
        """Transition the ticket to the done status; False when it already was done."""
        done = self.settings.done_status.lower()
        moved: list[bool] = []

        def look_then_transition(client: JIRA) -> None:
            status = client.issue(ticket, fields="status").raw["fields"]["status"]
            if status["statusCategory"]["key"] == "done" or str(status["name"]).lower() == done:
                return
            for transition in client.transitions(ticket):
                if done in (str(transition["name"]).lower(), str(transition["to"]["name"]).lower()):
                    client.transition_issue(ticket, str(transition["id"]))
                    moved.append(True)
                    return
            raise ConnectorError(
                "jira",
                "transition issue",
                None,
                f"{ticket} has no transition to {self.settings.done_status!r}; "
                "set jira.tickets.done_status to a status its workflow reaches",
            )

        self.calls.call("transition issue", look_then_transition)
        return bool(moved)

    def _new_ticket(self, divergence: Divergence) -> dict[str, Any]:
        summary = f"launchsync: {divergence.message}"[:250]
        return {
            "project": {"key": self.project},
            "issuetype": {"name": self.settings.ticket_type},
            "summary": summary,
            "description": (
                f"{divergence.message}\n\nidentity: {divergence.identity}\n"
                f"{fingerprint_line(divergence.fingerprint)}"
            ),
            "labels": [*self.settings.ticket_labels, marker_label(divergence.identity)],
        }

    def _marker(self, ticket: str) -> Mapping[str, Any]:
        issue = self.calls.call(
            "get issue", lambda c: c.issue(ticket, fields="status", properties=MARKER_PROPERTY).raw
        )
        return dict((issue.get("properties") or {}).get(MARKER_PROPERTY) or {})

    def _comments(self, client: JIRA, ticket: str) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        while True:
            page = client._get_json(
                f"issue/{ticket}/comment",
                params={"startAt": len(found), "maxResults": COMMENTS_PAGE},
            )
            found.extend(page.get("comments") or [])
            if not page.get("comments") or len(found) >= int(page.get("total", 0)):
                return found

    def _search(self, client: JIRA, jql: str) -> list[Mapping[str, Any]]:
        fields = ["status", "labels"]
        if self.calls.cloud:
            page = client.enhanced_search_issues(
                jql, maxResults=50, fields=fields, properties=MARKER_PROPERTY, json_result=True
            )
        else:
            page = client.search_issues(
                jql, maxResults=50, fields=fields, properties=MARKER_PROPERTY, json_result=True
            )
        return list(page.get("issues") or [])
