"""Jira-shaped webhooks, signed like Jira's, sent from a background thread.

Each delivery has an `X-Atlassian-Webhook-Identifier` that stays the same when it is
sent again (`redeliver`), and `X-Hub-Signature: sha256=<hex HMAC of the raw body>` when
the webhook has a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

Render = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Webhook:
    """Where to send which events (empty events: all of them)."""

    url: str
    secret: str | None = None
    events: tuple[str, ...] = ()

    def wants(self, event: str) -> bool:
        """True when this webhook subscribes to the event."""
        return not self.events or event in self.events


@dataclass
class Delivery:
    """One webhook message and every attempt to deliver it."""

    identifier: str
    event: str
    url: str
    body: bytes
    headers: dict[str, str]
    statuses: list[int | None] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The admin view of a delivery."""
        return {
            "identifier": self.identifier,
            "event": self.event,
            "url": self.url,
            "statuses": list(self.statuses),
        }


def signature(body: bytes, secret: str) -> str:
    """Jira's `X-Hub-Signature` value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookHub:
    """Registered webhooks, the delivery log, and the thread that sends."""

    def __init__(self, render: Render, webhooks: Sequence[Webhook] = (), timeout: float = 5.0):
        self.render = render
        self.webhooks = list(webhooks)
        self.deliveries: list[Delivery] = []
        self.timeout = timeout
        self._queue: queue.Queue[tuple[Delivery, int]] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def register(self, webhook: Webhook) -> None:
        """Add a webhook at run time."""
        with self._lock:
            self.webhooks.append(webhook)

    def changed(self, event: str, payload: dict[str, Any]) -> None:
        """A store change: queue one delivery per webhook that wants this event."""
        with self._lock:
            targets = [w for w in self.webhooks if w.wants(event)]
        if not targets:
            return
        message = {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": event,
            **self.render(event, payload),
        }
        body = json.dumps(message).encode()
        for webhook in targets:
            headers = {
                "Content-Type": "application/json",
                "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
            }
            if webhook.secret:
                headers["X-Hub-Signature"] = signature(body, webhook.secret)
            delivery = Delivery(
                headers["X-Atlassian-Webhook-Identifier"], event, webhook.url, body, headers
            )
            with self._lock:
                self.deliveries.append(delivery)
            self._send(delivery, 0)

    def redeliver(self, last: int = 1) -> list[Delivery]:
        """Send the last N deliveries again: same body, same identifier, a retry number."""
        with self._lock:
            chosen = self.deliveries[-last:] if last > 0 else []
        for delivery in chosen:
            self._send(delivery, len(delivery.statuses))
        return chosen

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until every queued delivery has been attempted."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _send(self, delivery: Delivery, retry: int) -> None:
        self._queue.put((delivery, retry))
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._deliver_forever, daemon=True)
                self._worker.start()

    def _deliver_forever(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                delivery, retry = self._queue.get()
                headers = dict(delivery.headers)
                if retry:
                    headers["X-Atlassian-Webhook-Retry"] = str(retry)
                status: int | None
                try:
                    status = client.post(
                        delivery.url, content=delivery.body, headers=headers
                    ).status_code
                except httpx.HTTPError:
                    status = None  # Jira retries later; the sandbox records the miss
                delivery.statuses.append(status)
                self._queue.task_done()


def webhooks_from(entries: Sequence[Mapping[str, Any]]) -> list[Webhook]:
    """Webhooks from the seed's `webhooks` list."""
    return [Webhook(str(e["url"]), e.get("secret"), tuple(e.get("events") or ())) for e in entries]
