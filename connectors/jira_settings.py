"""Jira endpoints, page sizes and the connector's settings (no logic beyond building them)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from models.config import JiraConfig

SYSTEM = "jira"
VERSIONS_PAGED = "project/{project}/version"  # PageBean: startAt, maxResults, isLast, values
VERSIONS_ALL = "project/{project}/versions"  # the whole list in one answer
VERSION_PAGE_SIZE = 100
SEARCH_PAGE_SIZE = 100  # Cloud's cap on search/jql when fields are asked for
CHANGELOG_KEYS_PER_SEARCH = 100
ISSUE_FIELDS = ("summary", "status", "assignee", "project", "updated", "labels", "issuetype")
MARKER_PROPERTY = "launchsync.divergence"
MARKER_LABEL_PREFIX = "launchsync-"
TIMEOUT_SECONDS = 30.0
# What the ticket sink does in `tickets.project`: open, comment on, then resolve tickets.
TICKET_PERMISSIONS = ("CREATE_ISSUES", "ADD_COMMENTS", "TRANSITION_ISSUES")


@dataclass(frozen=True)
class JiraSettings:
    """Where Jira is, how to sign in, what to read and where tickets go."""

    url: str
    email: str | None = None
    api_token: SecretStr | None = None  # Cloud, with email
    token: SecretStr | None = None  # Server/Data Center personal access token
    projects: tuple[str, ...] = ()
    issue_jql: str | None = None
    date_field: str = "duedate"
    ticket_project: str | None = None
    ticket_type: str = "Task"
    done_status: str = "Done"
    ticket_labels: tuple[str, ...] = ("launchsync",)
    timeout: float = TIMEOUT_SECONDS  # seconds per HTTP request

    def __repr__(self) -> str:
        return f"JiraSettings(url={self.url!r}, projects={self.projects!r})"

    @classmethod
    def from_config(cls, config: JiraConfig) -> JiraSettings:
        """Settings from the validated `jira` section of the config file."""
        return cls(
            url=config.url,
            email=config.email,
            api_token=config.api_token,
            token=config.token,
            projects=config.projects,
            issue_jql=config.issue_jql,
            date_field=config.date_field,
            ticket_project=config.ticket_project,
            ticket_type=config.tickets.issue_type,
            done_status=config.tickets.done_status,
            ticket_labels=config.tickets.labels,
        )
