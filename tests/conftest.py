"""Shared test plumbing: fixtures of each system live in tests/fixtures and register here."""

from __future__ import annotations

import os
import tempfile

# Prefect reads its home at import time; keep every test run's results out of ~/.prefect.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="launchsync-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

pytest_plugins: list[str] = [
    "tests.fixtures.prefect",
    "tests.fixtures.receivers",
    "tests.fixtures.state",
    "tests.fixtures.google",
    "tests.fixtures.calendars",
    "tests.fixtures.jira",
]
