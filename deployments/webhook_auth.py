"""Who may notify launchsync: Jira's HMAC signatures, Google's channel tokens, replays.

Every comparison is constant-time (`hmac.compare_digest`); refusals are `WebhookError`s
with the HTTP status to answer and a one-line reason that never echoes a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping

from models.errors import WebhookError

SIGNATURE_HEADER = "x-hub-signature"
DELIVERY_HEADER = "x-atlassian-webhook-identifier"


def sign(body: bytes, secret: str) -> str:
    """Jira's signature header value for a body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_jira(body: bytes, headers: Mapping[str, str], secret: str) -> str:
    """The delivery id of a correctly signed Jira webhook, or a WebhookError."""
    given = headers.get(SIGNATURE_HEADER, "")
    if not given:
        raise WebhookError(401, "missing X-Hub-Signature; set the webhook's secret in Jira")
    if not hmac.compare_digest(given.encode(), sign(body, secret).encode()):
        raise WebhookError(401, "X-Hub-Signature does not match; check the shared secret")
    delivery = headers.get(DELIVERY_HEADER, "")
    if not delivery:
        raise WebhookError(400, "missing X-Atlassian-Webhook-Identifier")
    return delivery


def verify_google(headers: Mapping[str, str], token: str) -> str:
    """The channel id of a Google push notification carrying our channel token."""
    channel = headers.get("x-goog-channel-id", "")
    if not channel:
        raise WebhookError(400, "missing X-Goog-Channel-ID")
    given = headers.get("x-goog-channel-token", "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise WebhookError(401, "X-Goog-Channel-Token does not match the configured token")
    return channel


class ReplayGuard:
    """Remembers delivery ids for a while; a second delivery of one id is refused."""

    def __init__(self, window_seconds: float = 3600, capacity: int = 100_000) -> None:
        self.window = window_seconds
        self.capacity = capacity
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, delivery: str) -> bool:
        """True the first time a delivery id is seen within the window."""
        now = time.monotonic()
        with self._lock:
            while self._seen and (
                next(iter(self._seen.values())) < now - self.window
                or len(self._seen) > self.capacity
            ):
                self._seen.popitem(last=False)
            if delivery in self._seen:
                return False
            self._seen[delivery] = now
            return True
