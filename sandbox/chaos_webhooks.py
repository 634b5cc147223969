"""Jira webhooks in the chaos harness: late, out of order and twice, into the real receiver.

Jira's first attempt at every delivery fails (the webhook points at a closed port: the
receiver was down). The courier then plays Jira's retries into the real receiver app
(`deployments.webhooks`, served on a loopback socket): the new deliveries in a seeded
shuffle, some sent twice, some old ones once more, and now and then into a receiver just
restarted (its memory of deliveries lost). The receiver emits one `ChangeNotice` per
burst with a deterministic id; like the Prefect server, the courier drops an id it has
seen, and the harness starts one targeted sync of the releases the new notices name.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from types import TracebackType

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from deployments.webhooks import ChangeNotice, ReceiverSettings, build_receiver
from sandbox.jira import JiraSandbox
from sandbox.jira.webhooks import Delivery
from sandbox.server import ServedApp, free_port

RESTART_CHANCE = 0.2
REDELIVERIES = (0, 1, 1, 2)  # deliveries of the whole log sent once more per targeted run


class Swappable:
    """An ASGI app whose target can be replaced while it is served (a receiver restart)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@dataclass
class Courier:
    """Plays the Jira emulator's deliveries into the real receiver; see the module docstring."""

    jira: JiraSandbox
    config_key: str
    notices: list[ChangeNotice] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # notice ids already acted on
    delivered: int = 0  # deliveries of the emulator's log already played
    _stack: ExitStack = field(default_factory=ExitStack)
    _app: Swappable | None = None
    _current: Starlette | None = None
    _url: str = ""
    # The emulator signs with it, the receiver checks it.
    _secret: str = field(default_factory=lambda: secrets.token_hex(16))

    def __enter__(self) -> Courier:
        self._current = self._receiver()
        self._app = Swappable(self._current)
        self._url = self._stack.enter_context(ServedApp(self._app)).url
        down = f"http://127.0.0.1:{free_port()}/webhooks/jira"  # nothing listens there
        self.jira.register_webhook(down, self._secret, ("jira:version_updated",))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def _receiver(self) -> Starlette:
        settings = ReceiverSettings(
            config_key=self.config_key, jira_secret=SecretStr(self._secret), coalesce_seconds=30
        )
        return build_receiver(settings, self.notices.append)

    def deliver(self, rng: random.Random) -> tuple[tuple[str, ...], Counter[str]]:
        """Play the deliveries made since the last call; (releases of new notices, counts)."""
        assert self._app and self._current, "use the courier as a context manager"
        log = self.jira.deliveries
        fresh = log[self.delivered :]
        self.delivered = len(log)
        counts: Counter[str] = Counter()
        if rng.random() < RESTART_CHANCE:
            self._current = self._receiver()  # forgets every delivery it had seen
            self._app.app = self._current
            counts["webhook receiver restarted"] += 1
        batch = list(fresh)
        rng.shuffle(batch)
        if batch != fresh:
            counts["webhook out of order"] += len(batch)
        again = rng.sample(log, min(len(log), rng.choice(REDELIVERIES)))
        counts["webhook redelivered"] += len(again)
        for retry, deliveries in ((1, batch), (2, again)):
            for delivery in deliveries:
                self._post(delivery, retry)
        self._current.state.coalescer.flush()
        return self._new_releases(), counts

    def _post(self, delivery: Delivery, retry: int) -> None:
        """Jira's retry of one delivery: same body and identifier, a retry number."""
        headers = {**delivery.headers, "X-Atlassian-Webhook-Retry": str(retry)}
        reply = httpx.post(f"{self._url}/webhooks/jira", content=delivery.body, headers=headers)
        # 202 accepted, or 409 for a delivery this receiver has already seen.
        assert reply.status_code in (202, 409), f"receiver answered {reply.status_code}"

    def _new_releases(self) -> tuple[str, ...]:
        """Releases named by notices whose id was not seen before (the Prefect server's dedupe)."""
        releases: set[str] = set()
        for notice in self.notices:
            if str(notice.event_id) not in self.seen:
                self.seen.add(str(notice.event_id))
                releases.update(notice.release_ids)
        return tuple(sorted(releases))
