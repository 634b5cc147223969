"""`launchsync webhooks`: Jira webhooks and Google push notifications -> Prefect events.

Open-source Prefect has no inbound webhooks, so this small ASGI app verifies each
notification, coalesces bursts, and emits one Prefect event per burst with a deterministic
id (uuid5 of the delivery ids): the Prefect server drops repeats. A deployment trigger on
that event starts a targeted sync of just the affected releases.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, SecretStr
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from deployments.webhook_auth import ReplayGuard, verify_google, verify_jira
from models.config import Config
from models.errors import LaunchsyncError, WebhookError
from models.freshness import GOOGLE_WEBHOOKS, JIRA_WEBHOOKS

log = logging.getLogger(__name__)
EVENT_NAME = "launchsync.source.changed"
# Google's resource URI: https://www.googleapis.com/calendar/v3/calendars/<id>/events?...
CALENDAR_IN_URI = re.compile(r"/calendars/([^/?#]+)/events")
NAMESPACE = uuid.UUID("6f1c2a52-6c1e-4a43-9d0b-2f8f3b1e7a10")


class ReceiverSettings(BaseModel):
    """What the receiver needs: the config it serves and the secrets it checks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config_key: str
    jira_secret: SecretStr | None = None
    google_token: SecretStr | None = None
    max_body_bytes: int = 512 * 1024
    replay_window_seconds: float = 3600
    coalesce_seconds: float = 0.5


@dataclass(frozen=True)
class ChangeNotice:
    """One coalesced burst of changes: the Prefect event the receiver emits."""

    event_id: uuid.UUID
    config_key: str
    release_ids: tuple[str, ...]
    sources: tuple[str, ...]


Emit = Callable[[ChangeNotice], None]
# Told the source of each accepted notification ("jira", "google:<calendar id>"): the
# watchdog's evidence that webhooks still arrive (StateStore.record_webhook in production).
Heard = Callable[[str], None]


def emit_prefect_event(notice: ChangeNotice) -> None:
    """Emit the notice as a Prefect event (the server dedupes by event id)."""
    from prefect.events import emit_event

    emit_event(
        event=EVENT_NAME,
        resource={"prefect.resource.id": f"launchsync.config.{notice.config_key}"},
        payload={"release_ids": list(notice.release_ids), "sources": list(notice.sources)},
        id=notice.event_id,
    )


@dataclass
class Coalescer:
    """Gathers notices until `window` seconds pass without one (at most `max_wait` after
    the first), then emits them as one event."""

    config_key: str
    window: float
    emit: Emit
    max_wait: float = 3.0
    _first_at: float = 0.0
    _deliveries: list[str] = field(default_factory=list)
    _releases: set[str] = field(default_factory=set)
    _sources: set[str] = field(default_factory=set)
    _timer: threading.Timer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, delivery: str, source: str, release_ids: list[str]) -> None:
        """Note one accepted notification."""
        with self._lock:
            self._deliveries.append(delivery)
            self._releases.update(release_ids)
            self._sources.add(source)
            now = time.monotonic()
            if self._timer is None:
                self._first_at = now
            else:
                self._timer.cancel()
            delay = max(0.0, min(self.window, self._first_at + self.max_wait - now))
            self._timer = threading.Timer(delay, self.flush)
            self._timer.daemon = True
            self._timer.start()

    def flush(self) -> None:
        """Emit what has gathered (also called on shutdown)."""
        with self._lock:
            if not self._deliveries:
                return
            if self._timer is not None:
                self._timer.cancel()
            event_id = uuid.uuid5(NAMESPACE, "|".join(sorted(self._deliveries)))
            notice = ChangeNotice(
                event_id,
                self.config_key,
                tuple(sorted(self._releases)),
                tuple(sorted(self._sources)),
            )
            self._deliveries, self._releases, self._sources = [], set(), set()
            self._timer = None
        self.emit(notice)


def jira_release_ids(payload: Any) -> list[str]:
    """Release ids a Jira webhook is about: the issue key or the version id."""
    if not isinstance(payload, dict) or not isinstance(payload.get("webhookEvent"), str):
        raise WebhookError(400, "body is not a Jira webhook (no webhookEvent)")
    ids = []
    if isinstance(payload.get("issue"), dict) and payload["issue"].get("key"):
        ids.append(str(payload["issue"]["key"]))
    if isinstance(payload.get("version"), dict) and payload["version"].get("id"):
        ids.append(str(payload["version"]["id"]))
    return ids


def settings_from(config: Config, config_key: str) -> ReceiverSettings:
    """Receiver settings from a config's `webhooks` section."""
    hooks = config.webhooks
    return ReceiverSettings(
        config_key=config_key,
        jira_secret=hooks.jira_secret,
        google_token=hooks.google_token,
        max_body_bytes=hooks.max_body_bytes,
    )


def google_source(resource_uri: str) -> str | None:
    """The webhook source a Google notification is about, from its X-Goog-Resource-URI."""
    found = CALENDAR_IN_URI.search(resource_uri)
    return GOOGLE_WEBHOOKS + unquote(found.group(1)) if found else None


def build_receiver(
    settings: ReceiverSettings, emit: Emit = emit_prefect_event, heard: Heard | None = None
) -> Starlette:
    """The ASGI app: POST /webhooks/jira and /webhooks/google, GET /healthz."""
    guard = ReplayGuard(settings.replay_window_seconds)
    coalescer = Coalescer(settings.config_key, settings.coalesce_seconds, emit)

    async def note(source: str | None) -> None:
        if heard is None or source is None:
            return
        try:
            await run_in_threadpool(heard, source)
        except LaunchsyncError as exc:  # the notification still counts; only the watch lapses
            log.warning("launchsync webhooks: could not note a %s webhook: %s", source, exc)

    async def jira(request: Request) -> JSONResponse:
        if settings.jira_secret is None:
            raise WebhookError(404, "Jira webhooks are not configured on this receiver")
        body = await _limited_body(request, settings.max_body_bytes)
        delivery = verify_jira(body, request.headers, settings.jira_secret.get_secret_value())
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise WebhookError(400, "body is not JSON") from None
        except RecursionError:  # fuzz-found: deeply nested arrays answered 500
            raise WebhookError(400, "body is JSON nested too deeply for a Jira webhook") from None
        release_ids = jira_release_ids(payload)
        _check_fresh(payload, settings.replay_window_seconds)
        if not guard.first_time(f"jira:{delivery}"):
            raise WebhookError(409, f"delivery {delivery[:64]} was already received")
        coalescer.add(f"jira:{delivery}", "jira", release_ids)
        await note(JIRA_WEBHOOKS)
        return JSONResponse({"accepted": True, "release_ids": release_ids}, status_code=202)

    async def google(request: Request) -> JSONResponse:
        if settings.google_token is None:
            raise WebhookError(404, "Google push notifications are not configured here")
        await _limited_body(request, settings.max_body_bytes)
        channel = verify_google(request.headers, settings.google_token.get_secret_value())
        number = request.headers.get("x-goog-message-number", "")
        source = google_source(request.headers.get("x-goog-resource-uri", ""))
        if request.headers.get("x-goog-resource-state") == "sync":
            await note(source)  # a new channel's first message: it delivers, the watch starts
            return JSONResponse({"accepted": False, "reason": "sync handshake"}, status_code=200)
        if not number:  # fuzz-found: was a 409 claiming the message was already received
            raise WebhookError(400, "missing X-Goog-Message-Number")
        if not guard.first_time(f"google:{channel}:{number}"):
            raise WebhookError(409, f"message {number[:20]} of channel was already received")
        coalescer.add(f"google:{channel}:{number}", "google", [])
        await note(source)
        return JSONResponse({"accepted": True}, status_code=202)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[
            Route("/webhooks/jira", _guarded(jira), methods=["POST"]),
            Route("/webhooks/google", _guarded(google), methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=_flush_on_exit(coalescer),
    )
    app.state.coalescer = coalescer
    return app


def _flush_on_exit(coalescer: Coalescer) -> Callable[[Starlette], Any]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        coalescer.flush()  # a burst still gathering is not lost on shutdown

    return lifespan


def _guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    async def run(request: Request) -> JSONResponse:
        try:
            response: JSONResponse = await handler(request)
            return response
        except WebhookError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)

    return run


async def _limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise WebhookError(413, f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise WebhookError(413, f"body over {limit} bytes")
    return bytes(body)


def _check_fresh(payload: dict[str, Any], window: float) -> None:
    """Refuse a correctly signed but old body: a captured delivery replayed later."""
    stamp = payload.get("timestamp")
    if isinstance(stamp, int | float) and stamp / 1000 < time.time() - window:
        raise WebhookError(401, "webhook timestamp is older than the replay window")
