"""The `jira` client built from settings, every call under the shared retry policy, safe JQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from jira import JIRA

from connectors.jira_settings import SYSTEM, JiraSettings
from connectors.retry import MalformedBody, RetryPolicy, retrying

T = TypeVar("T")
ORDER_BY = re.compile(r"\s+ORDER\s+BY\s+[^\"']*$", re.IGNORECASE)


def build_client(settings: JiraSettings) -> JIRA:
    """The real client: Cloud signs in with email + API token, Server/DC with a PAT."""
    options: dict[str, Any] = {"server": settings.url}
    auth: dict[str, Any] = {}
    if settings.email and settings.api_token is not None:
        auth["basic_auth"] = (settings.email, settings.api_token.get_secret_value())
    elif settings.token is not None:
        auth["token_auth"] = settings.token.get_secret_value()
    # max_retries=0: our tenacity policy owns retries (the client's own would sleep for
    # minutes on a 429 and retry creates that may already have happened).
    return JIRA(
        options=options, max_retries=0, get_server_info=True, timeout=settings.timeout, **auth
    )


class JiraCalls:
    """One lazily built client; `call` runs a function of it under the retry policy."""

    def __init__(
        self,
        settings: JiraSettings,
        policy: RetryPolicy | None = None,
        client: Callable[[JiraSettings], JIRA] = build_client,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self._build = client
        self._client: JIRA | None = None

    @property
    def client(self) -> JIRA:
        """The client, built (and serverInfo read) on first use."""
        if self._client is None:
            self._client = retrying(
                SYSTEM, "serverInfo", lambda: self._build(self.settings), policy=self.policy
            )
        return self._client

    @property
    def cloud(self) -> bool:
        """True for Jira Cloud (search/jql), False for Server/Data Center (search)."""
        return bool(self.client.deploymentType == "Cloud")

    def call(self, name: str, fn: Callable[[JIRA], T], *, idempotent: bool = True) -> T:
        """fn(client) with retries; ConnectorError names the call and the last status."""
        client = self.client

        def attempt() -> T:
            try:
                return fn(client)
            except (KeyError, TypeError, AttributeError) as exc:
                # fn only reads Jira's JSON: a missing key or a string where an object
                # belongs is an answer of the wrong shape (a proxy, a garbled reply), so it
                # is retried like a truncated body and ends as a one-line ConnectorError.
                raise MalformedBody(f"{name}: {type(exc).__name__}") from None

        return retrying(SYSTEM, name, attempt, policy=self.policy, idempotent=idempotent)

    def get_json(
        self,
        name: str,
        path: str,
        params: dict[str, Any] | None = None,
        shape: Callable[[Any], T] = lambda body: body,
    ) -> T:
        """GET a REST path under /rest/api/2, checked by `shape` (MalformedBody), retried."""
        return self.call(name, lambda c: shape(c._get_json(path, params=params)))


def quote(value: str) -> str:
    """A JQL string literal: quoted, backslashes and quotes escaped (no injection)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def split_order(jql: str) -> tuple[str, str]:
    """(condition, ' ORDER BY ...' or '') so a condition can be added before the order."""
    match = ORDER_BY.search(jql)
    if match is None:
        return jql.strip(), ""
    return jql[: match.start()].strip(), match.group(0)


def and_jql(condition: str, extra: str) -> str:
    """`(condition) AND extra`, keeping the query's ORDER BY at the end."""
    where, order = split_order(condition)
    return f"({where}) AND {extra}{order}" if where else f"{extra}{order}"
