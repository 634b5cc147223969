"""The one retry policy every connector uses (tenacity).

Retries what is safe to retry — 429, 500/502/503/504, Google's 403 `rateLimitExceeded`,
dropped connections, timeouts and truncated, malformed or wrong-shaped bodies (a proxy's
HTML page, `MalformedBody`) — with exponential back-off
and jitter, honouring `Retry-After`. A call that is not idempotent (a create) is retried
only when the server surely did not act on it (429, or the connection was refused).
Each wait is logged at INFO with the system and call; giving up raises `ConnectorError`.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import niquests
import requests
from tenacity import RetryCallState, Retrying, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_random_exponential

from models.errors import ConnectorError

T = TypeVar("T")
log = logging.getLogger("launchsync.retry")

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# caldav speaks through niquests (a requests fork with its own exception classes).
CONNECT_ERRORS = (
    requests.ConnectionError,
    niquests.ConnectionError,
    httpx.ConnectError,
    ConnectionRefusedError,
)
MAX_VENDOR_TEXT = 200  # a vendor's reason, kept to part of one line
HINTS = {
    400: "the request was refused as invalid; check the JQL, field or parameter named",
    401: "the credentials were refused; check the token or key in the config or environment",
    403: "permission denied; give the account access or use an account that has it",
    404: "not found; check the URL, project key or calendar id in the config",
    410: "the resource is gone; a full resync is needed",
}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, back-off base and cap, and a total deadline (seconds)."""

    attempts: int = 5
    base_wait: float = 0.5
    max_wait: float = 30.0
    deadline: float = 120.0
    sleep: Callable[[float], None] = time.sleep


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class Failure:
    """What went wrong with one attempt, in the terms the policy decides on."""

    status: int | str
    transient: bool
    acted: bool  # the server may have carried the request out
    retry_after: float | None = None


def classify(exc: BaseException) -> Failure | None:
    """The failure an exception stands for, or None if it is not an I/O failure."""
    status, headers, reason = _status_of(exc)
    if status is not None:
        transient = status in TRANSIENT_STATUSES or (status == 403 and reason in RATE_LIMIT_REASONS)
        limited = status == 429 or reason in RATE_LIMIT_REASONS
        return Failure(status, transient, acted=not limited, retry_after=_retry_after(headers))
    if isinstance(exc, CONNECT_ERRORS):
        refused = "refused" in str(exc).lower() or isinstance(exc, ConnectionRefusedError)
        return Failure("connection refused" if refused else "connection lost", True, not refused)
    if isinstance(exc, TimeoutError | requests.Timeout | niquests.Timeout | httpx.TimeoutException):
        return Failure("timeout", True, acted=True)
    lost = (
        requests.exceptions.ChunkedEncodingError,
        niquests.exceptions.ChunkedEncodingError,
        http.client.HTTPException,
        httpx.TransportError,
        ConnectionError,
    )
    if isinstance(exc, lost):
        return Failure("connection lost", True, acted=True)
    if isinstance(exc, json.JSONDecodeError | MalformedBody):
        return Failure("malformed body", True, acted=True)
    return None


class MalformedBody(ValueError):
    """A parsable answer of the wrong shape (a proxy's page, a list for an object)."""


def shaped(value: Any, kind: type[T], what: str) -> T:
    """`value` if it is a `kind`, else MalformedBody naming `what` was expected."""
    if not isinstance(value, kind):
        raise MalformedBody(f"expected {what}, got {type(value).__name__}")
    return value


def objects(value: Any, what: str = "a list of JSON objects") -> list[dict[str, Any]]:
    """A JSON list of objects, else MalformedBody (a bare string item is no record)."""
    items = shaped(value, list, what)
    if not all(isinstance(item, dict) for item in items):
        raise MalformedBody(f"expected {what}, got a list holding other values")
    return items


def page_of(value: Any, items_key: str) -> dict[str, Any]:
    """A JSON object whose `items_key` is a list of objects (or absent), else MalformedBody."""
    page = shaped(value, dict, "a JSON object")
    if page.get(items_key) is not None:
        objects(page[items_key], f"a list of JSON objects in {items_key!r}")
    return page


def _status_of(exc: BaseException) -> tuple[int | None, Any, str | None]:
    """(status, headers, reason) from the error types of jira, googleapiclient and httpx."""
    # googleapiclient's HttpError has a status_code too: look at it first, for its reason.
    resp = getattr(exc, "resp", None)  # googleapiclient.errors.HttpError
    if resp is not None and hasattr(resp, "status"):
        reason = getattr(exc, "reason", None) if hasattr(exc, "error_details") else None
        details = getattr(exc, "error_details", None)
        if isinstance(details, list) and details and isinstance(details[0], dict):
            reason = details[0].get("reason", reason)
        return int(resp.status), resp, reason
    status = getattr(exc, "status_code", None)  # jira.JIRAError
    if isinstance(status, int):
        response = getattr(exc, "response", None)
        return status, getattr(response, "headers", None) or getattr(exc, "headers", None), None
    if isinstance(exc, httpx.HTTPStatusError | requests.HTTPError) and exc.response is not None:
        return exc.response.status_code, exc.response.headers, None
    status = getattr(exc, "status", None)  # caldav.lib.error.DAVError (and its RateLimitError)
    if isinstance(status, int) and not isinstance(exc, OSError):
        return status, {"retry-after": getattr(exc, "retry_after_seconds", None)}, None
    return None, None, None


def _vendor_says(exc: BaseException) -> str:
    """The vendor's own reason for refusing a request (a permission, a field), one line.

    Only the JSON error message: the rest of a JIRAError holds the request's headers.
    """
    if hasattr(exc, "error_details"):  # googleapiclient's HttpError: its error.message
        return " ".join(str(getattr(exc, "reason", "") or "").split())[:MAX_VENDOR_TEXT]
    response = getattr(exc, "response", None)  # `is None`: a 4xx Response is falsy
    if getattr(exc, "status_code", None) is None or response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    messages = body.get("errorMessages")
    errors = body.get("errors")
    said = [str(m) for m in messages if m] if isinstance(messages, list) else []
    if isinstance(errors, dict):
        said += [f"{field}: {text}" for field, text in errors.items()]
    return " ".join("; ".join(said).split())[:MAX_VENDOR_TEXT]


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("retry-after") or headers.get("Retry-After")
        return max(0.0, float(value)) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def hint(status: int | str) -> str:
    """What a person can do about a final status."""
    return HINTS.get(status, "try again later") if isinstance(status, int) else "check the URL"


def retrying(
    system: str,
    call: str,
    fn: Callable[[], T],
    *,
    policy: RetryPolicy | None = None,
    idempotent: bool = True,
) -> T:
    """Run `fn` under the shared policy; raise ConnectorError naming system, call and status."""
    policy = policy or DEFAULT_POLICY

    def retryable(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        failure = classify(exc) if exc is not None else None
        return failure is not None and failure.transient and (idempotent or not failure.acted)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        failure = classify(exc) if exc is not None else None
        if failure is not None and failure.retry_after is not None:
            return min(failure.retry_after, policy.max_wait)
        backoff = wait_random_exponential(multiplier=policy.base_wait, max=policy.max_wait)
        return float(backoff(state))

    def announce(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        failure = classify(exc) if exc is not None else None
        seconds = state.next_action.sleep if state.next_action else 0.0
        log.info(
            "%s %s: %s, retrying in %.1fs (attempt %d of %d)",
            system,
            call,
            failure.status if failure else "error",
            seconds,
            state.attempt_number + 1,
            policy.attempts,
        )

    retryer = Retrying(
        stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.deadline),
        wait=wait,
        retry=retryable,
        before_sleep=announce,
        sleep=policy.sleep,
        reraise=True,
    )
    try:
        return retryer(fn)
    except Exception as exc:
        failure = classify(exc)
        if failure is None:
            raise
        # Not chained: JIRAError's text carries the request headers, Authorization included.
        said = _vendor_says(exc) if failure.status in (400, 403) else ""
        detail = f"{hint(failure.status)} ({system} says: {said})" if said else hint(failure.status)
        raise ConnectorError(system, call, failure.status, detail) from None
