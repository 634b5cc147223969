"""A progress display for the CLI: a spinner on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rich.console import Console

# The CLI's progress display, when the flow runs in its process; None elsewhere. Read by
# the flow through this module, so that Prefect can pickle the flow for a served run.
PROGRESS: ContextVar[Callable[[str], None] | None] = ContextVar("launchsync_progress", default=None)


@contextmanager
def progress_display(console: Console) -> Iterator[None]:
    """Show the sync's steps while it runs."""
    if console.is_terminal:
        with console.status("starting") as status:
            token = PROGRESS.set(lambda step: status.update(f"{step} ..."))
            try:
                yield
            finally:
                PROGRESS.reset(token)
        return
    # sys.stderr.write, not print: the flow's log_prints would turn prints into log records.
    token = PROGRESS.set(_plain_line)
    try:
        yield
    finally:
        PROGRESS.reset(token)


def _plain_line(step: str) -> None:
    sys.stderr.write(f"launchsync: {step}\n")
