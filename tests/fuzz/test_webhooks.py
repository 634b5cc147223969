"""The webhook receiver on a real port: only a correctly signed, well-formed body gets in.

Everything else is a 4xx with a short reason, emits nothing, and (checked by sending the
good delivery afterwards) is not remembered by the replay guard either.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.applications import Starlette

from deployments.webhook_auth import sign
from deployments.webhooks import ChangeNotice, ReceiverSettings, build_receiver
from sandbox.server import ServedApp
from tests.fuzz.strategies import FUZZ, junk

SECRET = "whsec-fuzz-0123456789"
TOKEN = "channel-token-fuzz"
LIMIT = 64 * 1024


@dataclass
class Receiver:
    """A served receiver and what it emitted."""

    url: str
    app: Starlette
    notices: list[ChangeNotice]
    client: httpx.Client

    def emitted(self) -> list[ChangeNotice]:
        """Notices emitted so far, flushing any burst still gathering."""
        self.app.state.coalescer.flush()
        found = list(self.notices)
        self.notices.clear()
        return found

    def post(self, path: str, body: bytes, headers: dict[str, Any]) -> httpx.Response:
        return self.client.post(f"{self.url}{path}", content=body, headers=headers)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    notices: list[ChangeNotice] = []
    settings = ReceiverSettings(
        config_key="fuzz",
        jira_secret=SecretStr(SECRET),
        google_token=SecretStr(TOKEN),
        max_body_bytes=LIMIT,
        coalesce_seconds=60,  # nothing flushes on its own: `emitted()` flushes on demand
    )
    app = build_receiver(settings, notices.append)
    with ServedApp(app) as served, httpx.Client(timeout=30) as client:
        yield Receiver(served.url, app, notices, client)


def webhook(key: str = "PROJ-7") -> dict[str, Any]:
    return {
        "webhookEvent": "jira:issue_updated",
        "timestamp": int(time.time() * 1000),
        "issue": {"id": "10007", "key": key, "fields": {"duedate": "2026-12-01"}},
    }


def signed(body: bytes, delivery: str, secret: str = SECRET) -> dict[str, Any]:
    return {"X-Hub-Signature": sign(body, secret), "X-Atlassian-Webhook-Identifier": delivery}


def assert_refused(response: httpx.Response) -> None:
    """A 4xx with a short one-line reason that names no secret."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    reason = response.json()["error"]
    assert isinstance(reason, str) and 0 < len(reason) <= 200 and "\n" not in reason
    assert SECRET not in response.text and TOKEN not in response.text


def assert_no_trace(receiver: Receiver, delivery: str) -> None:
    """Nothing was emitted, and the delivery id is still fresh to the replay guard."""
    assert receiver.emitted() == []
    body = json.dumps(webhook()).encode()
    good = receiver.post("/webhooks/jira", body, signed(body, delivery))
    assert good.status_code == 202, good.text
    assert len(receiver.emitted()) == 1


header_bytes = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=80).map(
    lambda text: text.encode("latin-1")
)
content_types = st.sampled_from(
    [b"application/json", b"text/plain", b"multipart/form-data; boundary=x", b"\xff\xfe"]
)
truncated = st.builds(
    lambda payload, cut: json.dumps(payload).encode()[: max(1, cut)],
    st.just(webhook()),
    st.integers(0, 120),
)
deep = st.integers(500, 20_000).map(lambda depth: b"[" * depth + b"]" * depth)
not_a_webhook = junk.map(lambda value: json.dumps(value).encode()) | st.sampled_from(
    [b'{"webhookEvent": 7}', b'{"webhookEvent": null}', b"[]", b'"jira"', b"NaN"]
)
bodies = st.binary(max_size=300) | truncated | deep | not_a_webhook
signatures = st.sampled_from(["none", "garbage", "wrong secret", "other body", "right"])


@FUZZ
@given(bodies, signatures, header_bytes, content_types, st.booleans())
def test_jira_refuses_every_body_that_is_not_a_signed_webhook(
    receiver: Receiver,
    body: bytes,
    signature: str,
    garbage: bytes,
    content_type: bytes,
    with_delivery: bool,
) -> None:
    delivery = f"fuzz-{uuid.uuid4()}"
    headers: dict[str, Any] = {"Content-Type": content_type}
    if with_delivery:
        headers["X-Atlassian-Webhook-Identifier"] = delivery
    if signature == "garbage":
        headers["X-Hub-Signature"] = garbage or b"sha256="
    elif signature == "wrong secret":
        headers["X-Hub-Signature"] = sign(body, "not-the-secret")
    elif signature == "other body":
        headers["X-Hub-Signature"] = sign(json.dumps(webhook()).encode(), SECRET)
    elif signature == "right":
        headers["X-Hub-Signature"] = sign(body, SECRET)
    assert_refused(receiver.post("/webhooks/jira", body, headers))
    assert_no_trace(receiver, delivery)


@FUZZ
@given(junk, st.integers(0, 10**13))
def test_a_signed_webhook_with_hostile_fields_is_accepted_or_refused_never_an_error(
    receiver: Receiver, issue: Any, timestamp: int
) -> None:
    """Signed bodies from Jira may still carry anything in `issue`; never a 5xx."""
    body = json.dumps(
        {"webhookEvent": "jira:issue_updated", "timestamp": timestamp, "issue": issue}
    )
    response = receiver.post(
        "/webhooks/jira", body.encode(), signed(body.encode(), str(uuid.uuid4()))
    )
    if response.status_code == 202:
        assert len(receiver.emitted()) == 1
    else:
        assert_refused(response)
        assert receiver.emitted() == []


def test_a_body_over_the_limit_is_refused_before_it_is_read(receiver: Receiver) -> None:
    body = b" " * (LIMIT + 1)
    delivery = f"huge-{uuid.uuid4()}"
    response = receiver.post("/webhooks/jira", body, signed(body, delivery))
    assert response.status_code == 413
    assert_refused(response)
    assert_no_trace(receiver, delivery)


def test_a_correctly_signed_webhook_is_accepted_once(receiver: Receiver) -> None:
    """The positive control: the fuzz cases above fail for their input, not the set-up."""
    body = json.dumps(webhook("PROJ-42")).encode()
    delivery = f"ok-{uuid.uuid4()}"
    assert receiver.post("/webhooks/jira", body, signed(body, delivery)).status_code == 202
    assert_refused(receiver.post("/webhooks/jira", body, signed(body, delivery)))
    (notice,) = receiver.emitted()
    assert notice.release_ids == ("PROJ-42",)


google_headers = st.fixed_dictionaries(
    {},
    optional={
        "X-Goog-Channel-ID": header_bytes,
        "X-Goog-Channel-Token": header_bytes | st.just(TOKEN[:-1].encode()),
        "X-Goog-Message-Number": header_bytes,
        "X-Goog-Resource-State": st.sampled_from([b"exists", b"sync", b"not_exists"])
        | header_bytes,
        "Content-Type": content_types,
    },
)


@FUZZ
@given(google_headers, st.binary(max_size=200))
def test_google_refuses_pushes_without_the_channel_token(
    receiver: Receiver, headers: dict[str, Any], body: bytes
) -> None:
    response = receiver.post("/webhooks/google", body, headers)
    assert_refused(response)
    assert receiver.emitted() == []


@pytest.mark.parametrize(
    ("channel", "number"), [(None, "5"), ("", "5"), ("chan-1", None), ("chan-1", "")]
)
def test_google_with_the_token_but_no_channel_or_message_number_is_refused(
    receiver: Receiver, channel: str | None, number: str | None
) -> None:
    """Channel and message number make a push unique; without them there is nothing to sync."""
    headers = {"X-Goog-Channel-Token": TOKEN, "X-Goog-Resource-State": "exists"}
    if channel is not None:
        headers["X-Goog-Channel-ID"] = channel
    if number is not None:
        headers["X-Goog-Message-Number"] = number
    response = receiver.post("/webhooks/google", b"", headers)
    assert_refused(response)
    missing = "X-Goog-Channel-ID" if not channel else "X-Goog-Message-Number"
    assert response.status_code == 400 and missing in response.json()["error"]
    assert receiver.emitted() == []
