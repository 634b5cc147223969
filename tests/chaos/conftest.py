"""A chaos world per test: both emulators, an SMTP outbox, children reporting to Prefect."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from sandbox.chaos import ChaosWorld, world_in


@pytest.fixture
def api_url(prefect_harness: None) -> str:
    """The test Prefect API, which the sync children report their flow runs to."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


@pytest.fixture
def make_world(tmp_path: Path, api_url: str) -> Iterator[Callable[[str | None], ChaosWorld]]:
    """make_world(state_url or None for SQLite) -> a running ChaosWorld, closed afterwards."""
    with ExitStack() as stack:

        def make(state_url: str | None = None) -> ChaosWorld:
            return stack.enter_context(world_in(tmp_path, state_url, api_url))

        yield make


@pytest.fixture
def world(make_world: Callable[[str | None], ChaosWorld]) -> ChaosWorld:
    """A ChaosWorld on a SQLite state file."""
    return make_world(None)


@pytest.fixture
def reference(tmp_path: Path, api_url: str) -> Iterator[ChaosWorld]:
    """A second, fault-free ChaosWorld (same seed data) in its own directory."""
    with world_in(tmp_path / "reference", api_url=api_url) as clean:
        yield clean
