"""Fault injection and request accounting shared by both emulators (pure ASGI middleware).

Faults are set per route from a seed (`"faults": [...]`) or at run time through the admin
endpoint `/_sandbox/faults` (GET lists, POST adds one or a list, DELETE clears). Every
request the emulator answers is counted at `/_sandbox/requests` (GET, DELETE resets), which
is how tests and benchmarks check how many calls a connector makes.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.types import ASGIApp, Receive, Scope, Send

ADMIN_PREFIX = "/_sandbox/"


class FaultKind(StrEnum):
    STATUS = "status"  # answer with an error status (429 with Retry-After, 5xx, ...)
    SLOW = "slow"  # wait delay_seconds, then answer normally
    DROP = "drop"  # promise a body and close the connection half-way through it
    MALFORMED = "malformed"  # 200 with a truncated JSON body


class Fault(BaseModel):
    """One injected fault: which requests it hits and how many times."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    path: str = Field(".*", description="regular expression searched in the request path")
    method: str = "*"
    status: int = 503
    retry_after: float | None = None
    delay_seconds: float = 0.0
    times: int | None = Field(1, description="how many requests it hits; null for all")
    after: bool = Field(
        False, description="act first, then fail: the server did the work but the reply is lost"
    )

    def hits(self, method: str, path: str) -> bool:
        """True when this fault applies to the request."""
        if self.method != "*" and self.method.upper() != method:
            return False
        return re.search(self.path, path) is not None


FAULT_LIST = TypeAdapter(list[Fault])
ErrorBody = Callable[[int], dict[str, Any]]


class FaultInjector:
    """Wraps an emulator app; injects faults and counts requests."""

    def __init__(self, app: ASGIApp, error_body: ErrorBody, faults: list[Fault] | None = None):
        self.app = app
        self.error_body = error_body
        self.faults: list[Fault] = list(faults or [])
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def add(self, *faults: Fault) -> None:
        """Arm more faults (thread-safe; tests call this from outside the server loop)."""
        with self._lock:
            self.faults.extend(faults)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self.faults.clear()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.hits(method, path):
                    if fault.times is not None:
                        left = fault.times - 1
                        if left <= 0:
                            del self.faults[i]
                        else:
                            self.faults[i] = fault.model_copy(update={"times": left})
                    return fault
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if path.startswith(ADMIN_PREFIX):
            await self._admin(method, path, receive, send)
            return
        with self._lock:
            self.requests.append((method, path))
        fault = self._take(method, path)
        if fault is not None and fault.after and fault.kind is not FaultKind.SLOW:
            await self.app(scope, receive, _discard)  # carried out; its answer never leaves
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind is FaultKind.SLOW:
            await asyncio.sleep(fault.delay_seconds)
            await self.app(scope, receive, send)
        elif fault.kind is FaultKind.STATUS:
            headers = [(b"content-type", b"application/json")]
            if fault.retry_after is not None:
                headers.append((b"retry-after", str(fault.retry_after).encode()))
            await _respond(send, fault.status, json.dumps(self.error_body(fault.status)), headers)
        elif fault.kind is FaultKind.MALFORMED:
            await _respond(
                send, 200, '{"values": [{"id": "1', [(b"content-type", b"application/json")]
            )
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"4096"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b'{"values": [', "more_body": True})
            # Returning with the body unfinished makes the server abort the connection.

    async def _admin(self, method: str, path: str, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        name = path[len(ADMIN_PREFIX) :].strip("/")
        if name == "faults" and method == "POST":
            data = json.loads(body or b"[]")
            self.add(*FAULT_LIST.validate_python(data if isinstance(data, list) else [data]))
        elif name == "faults" and method == "DELETE":
            self.clear()
        elif name == "requests" and method == "DELETE":
            with self._lock:
                self.requests.clear()
        elif name not in ("faults", "requests") or method != "GET":
            await _respond(send, 404, json.dumps({"error": f"no admin route {method} {path}"}))
            return
        with self._lock:
            payload: Any = (
                [f.model_dump(mode="json") for f in self.faults]
                if name == "faults"
                else [{"method": m, "path": p} for m, p in self.requests]
            )
        await _respond(send, 200, json.dumps(payload))


async def _discard(message: Any) -> None:
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(
    send: Send, status: int, body: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    raw = body.encode()
    all_headers = list(headers or [(b"content-type", b"application/json")])
    all_headers.append((b"content-length", str(len(raw)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": raw})
