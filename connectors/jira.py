"""Releases from Jira: versions of the configured projects and issues matched by a JQL.

Reads like the vendor's API: `iter_versions(project)` pages the PageBean endpoint,
`iter_issues(jql)` pages Cloud's `search/jql` by token or Server's `search` by offset;
translation is `connectors.jira_json`. Incremental reads (a cursor from the last batch):

- an issue JQL becomes `(jql) AND updated >= "<watermark>"` — one search when nothing changed;
- Jira versions have no `updated`, so each project costs one request for its whole list,
  compared with a digest kept in the cursor; unchanged projects return nothing. When a
  version was added or deleted the read becomes a full one (a delta cannot express removal).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from connectors.base import Batch
from connectors.jira_client import JiraCalls, and_jql, quote
from connectors.jira_history import issue_date_changes
from connectors.jira_json import issue_to_release, parse_jira_datetime, version_to_release
from connectors.jira_settings import (
    ISSUE_FIELDS,
    SEARCH_PAGE_SIZE,
    SYSTEM,
    VERSION_PAGE_SIZE,
    VERSIONS_ALL,
    VERSIONS_PAGED,
    JiraSettings,
)
from connectors.paging import offset_pages, token_pages
from connectors.retry import RetryPolicy, objects, page_of
from models.errors import ConfigError, ConnectorError, ItemError
from models.plan import ItemProblem
from models.release import Release, ReleaseKind

T = TypeVar("T")
JQL_CURSOR = "jql"
WATERMARK_MARGIN = dt.timedelta(minutes=1)  # search indexes lag a little behind writes
Changes = Mapping[str, tuple[str | None, dt.datetime | None]]


def project_cursor(project: str) -> str:
    """The cursor key of a project's versions."""
    return f"project:{project}"


def versions_digest(versions: Sequence[Mapping[str, Any]]) -> str:
    """`<ids>.<content>`: what changes when a version is added/removed, or edited."""
    rows = sorted(
        (
            str(v.get("id")),
            v.get("name"),
            v.get("releaseDate"),
            v.get("released"),
            v.get("archived"),
        )
        for v in versions
    )
    ids = hashlib.sha256(json.dumps([r[0] for r in rows]).encode()).hexdigest()[:16]
    content = hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()[:16]
    return f"{ids}.{content}"


class JiraReleaseSource:
    """`ReleaseSource` over the `jira` client (Cloud and Server/Data Center)."""

    def __init__(
        self,
        settings: JiraSettings,
        policy: RetryPolicy | None = None,
        calls: JiraCalls | None = None,
    ) -> None:
        self.settings = settings
        self.calls = calls or JiraCalls(settings, policy)
        self._date_field: str | None = None
        self._zone: ZoneInfo | None = None
        self._leads: dict[str, str | None] = {}

    # --- the vendor's API, page by page ----------------------------------------------

    def iter_versions(self, project: str) -> Iterator[Mapping[str, Any]]:
        """Every version of a project, paging the PageBean endpoint."""
        path = VERSIONS_PAGED.format(project=project)

        def page(start: int) -> Mapping[str, Any]:
            params = {"startAt": start, "maxResults": VERSION_PAGE_SIZE}
            call = f"versions of {project}"
            return self.calls.get_json(call, path, params, lambda body: page_of(body, "values"))

        for items in offset_pages(page, "values", SYSTEM, f"versions of {project}"):
            yield from items

    def iter_issues(self, jql: str) -> Iterator[Mapping[str, Any]]:
        """Every issue matching the JQL with the fields releases need."""
        fields = [*ISSUE_FIELDS, self.date_field()]
        client_call = "search issues"
        if self.calls.cloud:

            def by_token(token: str | None) -> Mapping[str, Any]:
                return self.calls.call(
                    client_call,
                    lambda c: page_of(
                        c.enhanced_search_issues(
                            jql,
                            nextPageToken=token,
                            maxResults=SEARCH_PAGE_SIZE,
                            fields=list(fields),
                            json_result=True,
                        ),
                        "issues",
                    ),
                )

            pages = token_pages(by_token, "issues", SYSTEM, client_call)
        else:

            def by_offset(start: int) -> Mapping[str, Any]:
                return self.calls.call(
                    client_call,
                    lambda c: page_of(
                        c.search_issues(
                            jql,
                            startAt=start,
                            maxResults=SEARCH_PAGE_SIZE,
                            fields=list(fields),
                            json_result=True,
                        ),
                        "issues",
                    ),
                )

            pages = offset_pages(by_offset, "issues", SYSTEM, client_call)
        for items in pages:
            yield from items

    def date_field(self) -> str:
        """The date field's id: given as an id, or found by name in /field."""
        if self._date_field is None:
            given = self.settings.date_field
            if given == "duedate" or given.startswith("customfield_"):
                self._date_field = given
            else:
                fields = self.calls.call("fields", lambda c: c.fields())
                match = [f for f in fields if str(f.get("name", "")).lower() == given.lower()]
                if not match:
                    raise ConfigError(
                        f"jira.date_field: no field named {given!r}; "
                        "use its id (customfield_NNNNN) or its exact name"
                    )
                self._date_field = str(match[0]["id"])
        return self._date_field

    # --- ReleaseSource -----------------------------------------------------------------

    def releases(self, cursor: Mapping[str, str] | None = None) -> Batch[Release]:
        """Every release (cursor None) or those changed since the cursor."""
        cursor = dict(cursor or {})
        items: list[Release] = []
        problems: list[ItemProblem] = []
        next_cursor: dict[str, str] = {}
        for project in self.settings.projects:
            key = project_cursor(project)
            if key in cursor:
                versions = self._whole_list(project)
                digest = versions_digest(versions)
                if digest.split(".")[0] != cursor[key].split(".")[0]:
                    return self.releases(None)  # a version was added or removed
                if digest != cursor[key]:
                    _translate(
                        versions,
                        partial(_version, project=project, base=self.settings.url),
                        items,
                        problems,
                    )
            else:
                versions = list(self.iter_versions(project))
                digest = versions_digest(versions)
                _translate(
                    versions,
                    partial(_version, project=project, base=self.settings.url),
                    items,
                    problems,
                )
            next_cursor[key] = digest
        if self.settings.issue_jql:
            watermark = cursor.get(JQL_CURSOR)
            newest = self._read_issues(watermark, items, problems)
            stamp = newest or watermark
            if stamp:
                next_cursor[JQL_CURSOR] = stamp
        owned = tuple(self._owned(release) for release in items)
        return Batch(owned, tuple(problems), next_cursor, complete=not cursor)

    def _owned(self, release: Release) -> Release:
        """The release with an owner: its assignee, else its project's lead (when visible)."""
        if release.owner:
            return release
        lead = self.project_lead(release.project)
        return release.model_copy(update={"owner": lead}) if lead else release

    def project_lead(self, project: str) -> str | None:
        """The e-mail of a project's lead, looked up once; None when Jira hides it."""
        if project not in self._leads:
            try:
                found: Any = self.calls.get_json(f"project {project}", f"project/{project}")
            except ConnectorError:
                # No permission to see the project's details: owners fall back to organizers.
                found = {}
            lead = found.get("lead") if isinstance(found, Mapping) else None
            email = lead.get("emailAddress") if isinstance(lead, Mapping) else None
            self._leads[project] = email if isinstance(email, str) and email.strip() else None
        return self._leads[project]

    def _whole_list(self, project: str) -> list[Mapping[str, Any]]:
        path = VERSIONS_ALL.format(project=project)
        return list(self.calls.get_json(f"versions of {project}", path, shape=objects))

    def _read_issues(
        self, watermark: str | None, items: list[Release], problems: list[ItemProblem]
    ) -> str | None:
        jql = str(self.settings.issue_jql)
        if watermark:
            jql = and_jql(jql, f"updated >= {quote(self._jql_time(watermark))}")
        field = self.date_field()
        issues = list(self.iter_issues(jql))
        _translate(
            issues, partial(_issue, date_field=field, base=self.settings.url), items, problems
        )
        stamps = [
            t
            for t in (parse_jira_datetime((i.get("fields") or {}).get("updated")) for i in issues)
            if t
        ]
        newest = max(stamps).astimezone(dt.UTC).isoformat() if stamps else None
        if newest and watermark and newest < watermark:
            newest = watermark
        return newest

    def _jql_time(self, watermark: str) -> str:
        """The watermark in the user's profile zone, which is how Jira reads JQL dates."""
        if self._zone is None:
            me = self.calls.call("myself", lambda c: c.myself())
            self._zone = ZoneInfo(str(me.get("timeZone") or "UTC"))
        moment = dt.datetime.fromisoformat(watermark) - WATERMARK_MARGIN
        return moment.astimezone(self._zone).strftime("%Y-%m-%d %H:%M")

    # --- slip history --------------------------------------------------------------------

    def date_changes(self, releases: list[Release]) -> Changes:
        """Issue key -> (author, time) of the last change of its date field, from the changelog.

        Jira keeps no history of versions through its REST API, so versions are left out.
        """
        keys = [r.id for r in releases if r.kind is ReleaseKind.ISSUE]
        return issue_date_changes(self.calls, keys, self.date_field())


def _version(raw: Any, project: str, base: str) -> Release:
    if not isinstance(raw, Mapping):
        raise ItemError(f"a version of {project}", "is not a JSON object")
    return version_to_release(raw, project, base)


def _issue(raw: Any, date_field: str, base: str) -> Release:
    if not isinstance(raw, Mapping):
        raise ItemError("an issue", "is not a JSON object")
    return issue_to_release(raw, date_field, base)


def _translate(
    raws: Sequence[Any],
    build: Callable[[Any], Release],
    items: list[Release],
    problems: list[ItemProblem],
) -> None:
    for raw in raws:
        try:
            items.append(build(raw))
        except ItemError as exc:
            problems.append(ItemProblem(item=exc.item, error=exc.problem))
