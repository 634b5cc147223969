"""Planted canary secrets never surface: not in logs, artifacts, errors or alert bodies."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
import yaml
from prefect.artifacts import Artifact

from flows.bootstrap import load_with_secrets, open_runtime
from flows.sync import SyncOptions
from tests.fakes import FakeTicketSink
from tests.fixtures.receivers import SMTP_PASSWORD, SmtpServer
from tests.flows.running import sync_in_flow
from tests.flows.test_sync_flow import TODAY, World

JIRA_CANARY = "jira-token-CANARY-7f3a9c"
HOOK_CANARY = "hook-secret-CANARY-b81d2e"


def test_no_secret_reaches_logs_artifacts_errors_or_alerts(
    tmp_path: Path,
    smtp_server: SmtpServer,
    prefect_harness: None,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    World(seed, "", FakeTicketSink(), None).write()  # type: ignore[arg-type]
    dead_hook = f"json://bot:{HOOK_CANARY}@127.0.0.1:9/hook?token={HOOK_CANARY}"
    config = {
        "timezone": "America/Los_Angeles",
        "jira": {
            "url": "https://jira.test",
            "email": "bot@example.com",
            "api_token": "${LS_JIRA_TOKEN}",
            "projects": ["PROJ"],
        },
        "calendar": {"calendar_ids": ["marketing@example.com"]},
        "alerts": {
            "smtp": "${LS_SMTP_URL}",
            "routes": [{"notify": ["pm@example.com", "${LS_HOOK_URL}"]}],
        },
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
    }
    path = tmp_path / "canary.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("LS_JIRA_TOKEN", JIRA_CANARY)
    monkeypatch.setenv("LS_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("LS_HOOK_URL", dead_hook)
    caplog.set_level(logging.DEBUG)

    settings, redactor = load_with_secrets(path)
    redactor.install()
    with open_runtime(settings, "canary", redactor, seed_dir=seed) as runtime:
        runtime = dataclasses.replace(runtime, sink=FakeTicketSink())
        report = sync_in_flow(runtime, SyncOptions(today=TODAY))

    assert report.outcome is not None
    (failure,) = report.outcome.failures  # the dead webhook: the secret URL was really used
    (mail,) = smtp_server.messages  # the e-mail went out through the password-protected server
    artifacts = [Artifact.get(key) for key in ("canary-divergences", "canary-summary")]
    assert all(a is not None and a.data for a in artifacts)
    outputs = {
        "logs": caplog.text + "".join(capsys.readouterr()),
        "artifacts": "".join(str(a.data) for a in artifacts if a is not None),
        "errors": failure,
        "alert": mail.text + mail.html + str(mail.message),
    }
    for where, text in outputs.items():
        for canary in (JIRA_CANARY, HOOK_CANARY, SMTP_PASSWORD):
            assert canary not in text, f"{canary} leaked into {where}"
