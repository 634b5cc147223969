"""Serve both emulators from a seed directory and describe them as a launchsync config."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.seed import JIRA_FILE, read_seed_file
from sandbox.google_calendar import CalendarSandbox, load_seed
from sandbox.jira import JiraSandbox
from sandbox.server import ServedApp


@dataclass(frozen=True)
class RunningSandboxes:
    """Both emulators, listening on loopback."""

    jira: JiraSandbox
    google: CalendarSandbox
    jira_url: str
    google_endpoint: str
    seed: dict[str, Any]
    calendar_ids: tuple[str, ...]


@contextmanager
def running_sandboxes(
    seed_dir: Path, jira_port: int = 0, google_port: int = 0
) -> Iterator[RunningSandboxes]:
    """Start the Jira and Google Calendar emulators seeded from `seed_dir`."""
    jira_seed = read_seed_file(seed_dir, JIRA_FILE)
    jira, google = JiraSandbox(jira_seed), load_seed(seed_dir)  # each with its seeded faults
    with ExitStack() as stack:
        served_jira = stack.enter_context(ServedApp(jira.app, jira_port))
        served_google = stack.enter_context(ServedApp(google.app, google_port))
        yield RunningSandboxes(
            jira,
            google,
            served_jira.url,
            f"{served_google.url}/calendar/v3/",
            jira_seed,
            tuple(google.store.calendars),
        )


def sandbox_config(running: RunningSandboxes, state_url: str) -> dict[str, Any]:
    """A complete config (contract 4) pointing at the running emulators."""
    projects = [p["key"] for p in running.seed.get("projects", [])]
    return {
        "timezone": "America/Los_Angeles",
        "jira": {
            # No credentials: the emulator checks none unless its seed has "auth", and a
            # config may carry a secret only as a ${VAR} reference (models/config_secrets).
            "url": running.jira_url,
            "projects": projects,
            "tickets": {"project": projects[0]} if projects else {},
        },
        "calendar": {
            "kind": "google",
            "calendar_ids": list(running.calendar_ids),
            "api_endpoint": running.google_endpoint,
        },
        "state": {"url": state_url},
    }
