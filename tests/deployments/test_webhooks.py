"""The webhook receiver over a real socket: who gets in, what becomes a Prefect event."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from deployments.webhook_auth import sign
from deployments.webhooks import ChangeNotice, ReceiverSettings, build_receiver
from sandbox.server import ServedApp

SECRET = "whsec-test-0123456789"
TOKEN = "channel-token-abcdef"


class Receiver:
    def __init__(self, url: str, notices: list[ChangeNotice]) -> None:
        self.url, self.notices = url, notices

    def jira(
        self,
        payload: Any,
        *,
        delivery: str = "d-1",
        secret: str = SECRET,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = raw if raw is not None else json.dumps(payload).encode()
        sent = {
            "X-Hub-Signature": sign(body, secret),
            "X-Atlassian-Webhook-Identifier": delivery,
            **(headers or {}),
        }
        return httpx.post(f"{self.url}/webhooks/jira", content=body, headers=sent)

    def settle(self) -> list[ChangeNotice]:
        time.sleep(0.35)  # one coalescing window
        return self.notices


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    notices: list[ChangeNotice] = []
    settings = ReceiverSettings(
        config_key="launch",
        jira_secret=SecretStr(SECRET),
        google_token=SecretStr(TOKEN),
        max_body_bytes=4096,
        coalesce_seconds=0.2,
    )
    with ServedApp(build_receiver(settings, notices.append)) as served:
        yield Receiver(served.url, notices)


def issue_updated(key: str = "PROJ-7") -> dict[str, Any]:
    return {
        "webhookEvent": "jira:issue_updated",
        "timestamp": int(time.time() * 1000),
        "issue": {"id": "10007", "key": key, "fields": {"duedate": "2026-12-01"}},
    }


def test_a_signed_jira_webhook_becomes_one_event_for_its_release(receiver: Receiver) -> None:
    response = receiver.jira(issue_updated())
    assert response.status_code == 202
    (notice,) = receiver.settle()
    assert (notice.config_key, notice.release_ids, notice.sources) == (
        "launch",
        ("PROJ-7",),
        ("jira",),
    )


def test_a_burst_of_changes_coalesces_into_one_event(receiver: Receiver) -> None:
    for n in range(5):
        assert receiver.jira(issue_updated(f"PROJ-{n}"), delivery=f"d-{n}").status_code == 202
    (notice,) = receiver.settle()
    assert notice.release_ids == tuple(f"PROJ-{n}" for n in range(5))


def test_the_event_id_is_the_same_for_the_same_deliveries() -> None:
    from deployments.webhooks import Coalescer

    ids = []
    for _ in range(2):
        c = Coalescer("launch", 60, lambda n: ids.append(n.event_id))
        c.add("jira:d-1", "jira", ["PROJ-1"])
        c.flush()
    assert ids[0] == ids[1]


@pytest.mark.parametrize(
    ("mutate", "status", "reason"),
    [
        (lambda r: r.jira(issue_updated(), secret="wrong-secret-xyz"), 401, "does not match"),
        (lambda r: httpx.post(f"{r.url}/webhooks/jira", content=b"{}"), 401, "missing X-Hub"),
        (lambda r: r.jira(None, raw=b"{not json"), 400, "not JSON"),
        (lambda r: r.jira({"hello": "world"}), 400, "not a Jira webhook"),
        (lambda r: r.jira(None, raw=b"x" * 5000), 413, "body over 4096 bytes"),
        (
            lambda r: r.jira({**issue_updated(), "timestamp": 1_600_000_000_000}),
            401,
            "older than the replay window",
        ),
    ],
)
def test_bad_webhooks_are_refused_and_leave_no_trace(
    receiver: Receiver, mutate: Any, status: int, reason: str
) -> None:
    response = mutate(receiver)
    assert response.status_code == status
    assert reason in response.json()["error"]
    assert SECRET not in response.text
    assert receiver.settle() == []


def test_a_replayed_delivery_is_refused(receiver: Receiver) -> None:
    assert receiver.jira(issue_updated()).status_code == 202
    replay = receiver.jira(issue_updated())
    assert replay.status_code == 409 and "already received" in replay.json()["error"]
    assert len(receiver.settle()) == 1


def google_headers(token: str = TOKEN, number: str = "2", state: str = "exists") -> dict[str, str]:
    return {
        "X-Goog-Channel-ID": "chan-1",
        "X-Goog-Channel-Token": token,
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": number,
        "X-Goog-Resource-ID": "res-1",
    }


def test_a_google_push_with_the_channel_token_triggers_a_calendar_sync(receiver: Receiver) -> None:
    sync = httpx.post(f"{receiver.url}/webhooks/google", headers=google_headers(state="sync"))
    assert sync.status_code == 200
    assert (
        httpx.post(f"{receiver.url}/webhooks/google", headers=google_headers()).status_code == 202
    )
    (notice,) = receiver.settle()
    assert notice.sources == ("google",) and notice.release_ids == ()


def test_google_pushes_with_a_wrong_or_no_token_are_refused(receiver: Receiver) -> None:
    wrong = httpx.post(f"{receiver.url}/webhooks/google", headers=google_headers(token="nope"))
    headers = google_headers()
    del headers["X-Goog-Channel-Token"]
    missing = httpx.post(f"{receiver.url}/webhooks/google", headers=headers)
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert TOKEN not in wrong.text
    assert receiver.settle() == []
