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
from collections import Counter
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.types import ASGIApp, Receive, Scope, Send

ADMIN_PREFIX = "/_sandbox/"
# Every list key our clients page over, each holding a string: parsable, but no page.
WRONG_SHAPE_BODY = '{"values": "oops", "issues": "oops", "items": "oops", "comments": "oops"}'
PROXY_PAGE = "<html><head><title>Bad Gateway</title></head><body><h1>502</h1></body></html>"


class FaultKind(StrEnum):
    STATUS = "status"  # answer with an error status (429 with Retry-After, 5xx, ...)
    SLOW = "slow"  # wait delay_seconds, then answer normally
    DROP = "drop"  # promise a body and close the connection half-way through it
    MALFORMED = "malformed"  # 200 with a truncated JSON body
    TIMEOUT = "timeout"  # hold the request delay_seconds (past the client's timeout), then fail
    WRONG_SHAPE = "wrong_shape"  # 200 with valid JSON of the wrong shape (`body`)
    HTML = "html"  # a proxy's HTML error page, with `status` (200 or 502, say)


class Fault(BaseModel):
    """One injected fault: which requests it hits and how many times."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    path: str = Field(".*", description="regular expression searched in the request path")
    method: str = "*"
    status: int = 503
    retry_after: float | None = None
    delay_seconds: float = 0.0
    body: str = Field(WRONG_SHAPE_BODY, description="wrong_shape: the JSON answered")
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
        self.statuses: Counter[int] = Counter()  # answers the app gave, not the faults
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
        if fault is None:
            await self.app(scope, receive, self._counting(send))
            return
        if fault.after and fault.kind is not FaultKind.SLOW:
            await self.app(scope, receive, _discard)  # carried out; its answer never leaves
        if fault.kind is FaultKind.SLOW:
            await asyncio.sleep(fault.delay_seconds)
            await self.app(scope, receive, self._counting(send))
        elif fault.kind is FaultKind.TIMEOUT:
            # The client gives up first; a real gateway answers 504 to nobody afterwards.
            await asyncio.sleep(fault.delay_seconds)
            await _respond(send, 504, json.dumps(self.error_body(504)))
        else:
            await _answer_fault(send, fault, self.error_body)

    def _counting(self, send: Send) -> Send:
        """`send`, noting the status of each answer the app itself gives."""

        async def counted(message: Any) -> None:
            if message["type"] == "http.response.start":
                with self._lock:
                    self.statuses[int(message["status"])] += 1
            await send(message)

        return counted

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


async def _answer_fault(send: Send, fault: Fault, error_body: ErrorBody) -> None:
    """The reply of a fault that answers at once: an error status or a broken body."""
    json_type = [(b"content-type", b"application/json")]
    if fault.kind is FaultKind.STATUS:
        if fault.retry_after is not None:
            # RFC 9110's delay-seconds are whole ("2", never "2.0"); a fraction is a test's
            # way to keep a schedule of many 429s fast.
            json_type.append((b"retry-after", f"{fault.retry_after:g}".encode()))
        await _respond(send, fault.status, json.dumps(error_body(fault.status)), json_type)
    elif fault.kind is FaultKind.MALFORMED:
        await _respond(send, 200, '{"values": [{"id": "1', json_type)
    elif fault.kind is FaultKind.WRONG_SHAPE:
        await _respond(send, 200, fault.body, json_type)
    elif fault.kind is FaultKind.HTML:
        await _respond(send, fault.status, PROXY_PAGE, [(b"content-type", b"text/html")])
    else:
        head = [*json_type, (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": b'{"values": [', "more_body": True})
        # Returning with the body unfinished makes the server abort the connection.


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
