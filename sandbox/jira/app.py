"""JiraSandbox: the emulator app, its state, and the helpers tests use to change it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.seed import JIRA_FILE, read_seed_file, seed_file
from models.errors import SeedError
from sandbox.faults import FAULT_LIST, Fault, FaultInjector
from sandbox.jira import issues, render
from sandbox.jira.errors import error_body
from sandbox.jira.routes import JiraApi
from sandbox.jira.store import JiraStore
from sandbox.jira.webhooks import Delivery, Webhook, WebhookHub, webhooks_from

ADMIN = "/_jira"  # FaultInjector owns /_sandbox/; these routes are the Jira-specific admin


class JiraSandbox:
    """A seedable Jira REST emulator (contract 5): serve `.app`; `.faults` injects and counts."""

    def __init__(self, seed: Mapping[str, Any], *, clock: Callable[[], dt.datetime] | None = None):
        deployment = seed.get("deployment", "Cloud")
        if deployment not in ("Cloud", "Server"):
            raise SeedError(f"jira.json: deployment {deployment!r} must be 'Cloud' or 'Server'")
        auth = dict(seed.get("auth") or {})
        self.store = JiraStore(deployment, auth.get("user"), clock)
        _load(self.store, seed)
        self.hub = WebhookHub(self._webhook_body, webhooks_from(seed.get("webhooks") or []))
        self.store.listeners.append(self.hub.changed)
        api = JiraApi(self.store, {k: v for k, v in auth.items() if k != "user"})
        admin = [
            Route(f"{ADMIN}/webhooks", self._admin_webhooks, methods=["GET", "POST"]),
            Route(f"{ADMIN}/webhooks/redeliver", self._admin_redeliver, methods=["POST"]),
        ]
        inner = Starlette(routes=[*api.app().routes, *admin])
        self.faults = FaultInjector(inner, error_body, _faults(seed.get("faults") or []))
        self.app = self.faults

    # --- state tests read ------------------------------------------------------------

    @property
    def issues(self) -> dict[str, dict[str, Any]]:
        """Stored issues by key (live objects: read, do not change)."""
        return self.store.issues

    @property
    def versions(self) -> dict[str, dict[str, Any]]:
        """Stored versions by id (live objects: read, do not change)."""
        return self.store.versions

    def comments(self, key: str) -> list[dict[str, Any]]:
        """The comments of an issue, oldest first."""
        return list(self.store.comments.get(key, []))

    def properties(self, key: str) -> dict[str, Any]:
        """The entity properties of an issue."""
        return dict(self.store.properties.get(key, {}))

    def request_count(self) -> int:
        """API requests answered so far (FaultInjector admin requests not counted)."""
        return len(self.faults.requests)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery so far."""
        return list(self.hub.deliveries)

    # --- what a person does in the Jira UI -------------------------------------------

    def move_version(
        self, version_id: str, release_date: dt.date | None, author: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Change a version's releaseDate; emits jira:version_updated."""
        value = release_date.isoformat() if release_date else None
        return self.store.update_version(version_id, {"releaseDate": value}, author)

    def release_version(self, version_id: str) -> dict[str, Any]:
        """Mark a version released; emits jira:version_updated and jira:version_released."""
        return self.store.update_version(version_id, {"released": True})

    def edit_issue(
        self,
        key: str,
        author: Mapping[str, Any] | None = None,
        at: dt.datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any] | None:
        """Set issue fields (e.g. `duedate="2026-05-01"`), recording who and when."""
        return issues.edit_issue(self.store, key, {"fields": fields}, author, at)

    def move_issue_date(
        self,
        key: str,
        field: str,
        day: dt.date | None,
        author: Mapping[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> dict[str, Any] | None:
        """Change an issue's date field (`duedate` or a custom field id)."""
        return self.edit_issue(key, author, at, **{field: day.isoformat() if day else None})

    def register_webhook(
        self, url: str, secret: str | None = None, events: Sequence[str] = ()
    ) -> None:
        """Add a webhook at run time."""
        self.hub.register(Webhook(url, secret, tuple(events)))

    def redeliver(self, last: int = 1) -> list[Delivery]:
        """Send the last N webhook deliveries again (same identifier)."""
        return self.hub.redeliver(last)

    def wait_webhooks(self, timeout: float = 5.0) -> None:
        """Block until every queued webhook has been attempted."""
        self.hub.wait_idle(timeout)

    # --- internals -------------------------------------------------------------------

    def _webhook_body(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"user": render.user(self.store, payload.get("user"))}
        if "issue" in payload:
            body["issue"] = render.issue_json(self.store, payload["issue"])
        if "version" in payload:
            body["version"] = render.version_json(self.store, payload["version"])
        if "comment" in payload:
            body["comment"] = render.comment_json(
                self.store, payload["issue"]["key"], payload["comment"]
            )
        for extra in ("changelog", "issue_event_type_name"):
            if extra in payload:
                body[extra] = payload[extra]
        return body

    async def _admin_webhooks(self, request: Request) -> JSONResponse:
        if request.method == "POST":
            data = json.loads(await request.body() or b"{}")
            self.hub.register(*webhooks_from([data]))
        return JSONResponse([d.summary() for d in self.hub.deliveries])

    async def _admin_redeliver(self, request: Request) -> JSONResponse:
        data = json.loads(await request.body() or b"{}")
        chosen = self.hub.redeliver(int(data.get("last", 1)))
        return JSONResponse([d.summary() for d in chosen])


def _load(store: JiraStore, seed: Mapping[str, Any]) -> None:
    try:
        for field in seed.get("fields") or []:
            store.add_field(field)
        for project in seed.get("projects") or []:
            store.add_project(project)
        for issue in seed.get("issues") or []:
            store.add_issue(issue)
        for project_key, keys in (seed.get("denied_permissions") or {}).items():
            store.denied[str(project_key)] = {str(k) for k in keys}
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise SeedError(
            f"jira.json: an item lacks {exc} or is not an object; "
            "projects need key, id and name, issues need key and fields"
        ) from None


def _faults(given: Sequence[Fault | Mapping[str, Any]]) -> list[Fault]:
    try:
        return FAULT_LIST.validate_python(
            [f.model_dump() if isinstance(f, Fault) else dict(f) for f in given]
        )
    except ValidationError as exc:
        raise SeedError(
            f"jira.json faults: {exc.errors()[0]['msg']}; see sandbox/faults.py"
        ) from None


def load_seed(path: Path | str, **options: Any) -> JiraSandbox:
    """A sandbox seeded from `jira.json` (or a seed directory holding it)."""
    data = read_seed_file(path, JIRA_FILE)
    if not isinstance(data, dict):
        raise SeedError(
            f"{seed_file(path, JIRA_FILE)}: must be an object with 'projects' and 'issues'"
        )
    return JiraSandbox(data, **options)
