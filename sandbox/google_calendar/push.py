"""Watch channels and the push notifications Google POSTs to their addresses.

Notifications go out from one background thread, so the API call that caused a change
returns at once (Google's pushes are asynchronous too). Each carries Google's headers:
the first message of a channel has state `sync`, later ones `exists`, and the message
number only grows.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import queue
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.google_calendar.errors import ApiError, bad_request

DEFAULT_TTL = dt.timedelta(days=7)  # Google's default lifetime of an events channel
CHANNEL_TYPES = ("web_hook", "webhook")


@dataclass
class Channel:
    """One watch channel on a calendar's events."""

    id: str
    resource_id: str
    resource_uri: str
    calendar_id: str
    address: str
    token: str | None
    expiration_ms: int
    message_number: int = 0


@dataclass(frozen=True)
class Delivery:
    """One notification sent (or attempted): for tests and debugging."""

    channel_id: str
    state: str
    number: int
    status: int | None  # None when the address could not be reached


@dataclass
class PushHub:
    """Channels by id, and the thread that delivers their notifications."""

    timeout: float = 5.0
    channels: dict[str, Channel] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    _queue: queue.Queue[tuple[Channel, str, int, dict[str, str]]] = field(
        default_factory=queue.Queue
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _worker: threading.Thread | None = None

    def watch(self, calendar_id: str, body: Mapping[str, Any], resource_uri: str) -> dict[str, Any]:
        """events.watch: open a channel and send its `sync` message."""
        channel_id, address = body.get("id"), body.get("address")
        if not channel_id or not address:
            raise bad_request("A channel needs an id and an address.", "required")
        if body.get("type") not in CHANNEL_TYPES:
            raise bad_request(f"Channel type must be web_hook, not {body.get('type')!r}.")
        now_ms = int(time.time() * 1000)
        expiration = int(body.get("expiration") or now_ms + DEFAULT_TTL.total_seconds() * 1000)
        with self._lock:
            if channel_id in self.channels:
                raise bad_request(f"Channel id {channel_id} not unique", "channelIdNotUnique")
            channel = Channel(
                id=str(channel_id),
                resource_id=secrets.token_urlsafe(20),
                resource_uri=resource_uri,
                calendar_id=calendar_id,
                address=str(address),
                token=body.get("token"),
                expiration_ms=min(expiration, now_ms + int(DEFAULT_TTL.total_seconds() * 1000)),
            )
            self.channels[channel.id] = channel
            self._enqueue(channel, "sync")
        reply = {
            "kind": "api#channel",
            "id": channel.id,
            "resourceId": channel.resource_id,
            "resourceUri": channel.resource_uri,
            "expiration": str(channel.expiration_ms),
        }
        return reply | ({"token": channel.token} if channel.token else {})

    def stop(self, body: Mapping[str, Any]) -> None:
        """channels.stop: the id and resourceId must name an open channel (else 404)."""
        with self._lock:
            channel = self.channels.get(str(body.get("id")))
            if channel is None or channel.resource_id != body.get("resourceId"):
                raise ApiError(404, "notFound", f"Channel '{body.get('id')}' not found")
            del self.channels[channel.id]

    def changed(self, calendar_id: str) -> None:
        """A calendar changed: tell every live channel on it (state `exists`)."""
        now_ms = int(time.time() * 1000)
        with self._lock:
            for channel in list(self.channels.values()):
                if channel.calendar_id == calendar_id and channel.expiration_ms > now_ms:
                    self._enqueue(channel, "exists")

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until every queued notification has been attempted (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _enqueue(self, channel: Channel, state: str) -> None:
        channel.message_number += 1
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": email.utils.formatdate(
                channel.expiration_ms / 1000, usegmt=True
            ),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": channel.resource_uri,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(channel.message_number),
        }
        if channel.token:
            headers["X-Goog-Channel-Token"] = channel.token
        self._queue.put((channel, state, channel.message_number, headers))
        if self._worker is None:
            self._worker = threading.Thread(target=self._deliver_forever, daemon=True)
            self._worker.start()

    def _deliver_forever(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                channel, state, number, headers = self._queue.get()
                status: int | None
                try:
                    status = client.post(channel.address, headers=headers, content=b"").status_code
                except httpx.HTTPError:
                    status = None  # Google retries later; an emulator just records the miss
                self.deliveries.append(Delivery(channel.id, state, number, status))
                self._queue.task_done()
