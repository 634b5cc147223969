"""Served flow runs start from a warm process that has already imported launchsync.

Prefect's Runner starts each run of a served flow with multiprocessing's "spawn": a new
interpreter that imports Prefect, the Jira and Google clients and launchsync again, which
was most of a webhook's latency (about 4 s of 8 s, measured by `./dev bench latency`).
A forkserver imports them once and forks every run from there in milliseconds; each run
is still its own process, with the crash isolation and cancellation Prefect expects.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from functools import wraps
from typing import Any

log = logging.getLogger(__name__)

# What a sync run imports; anything left out is imported by the run itself, as before.
PRELOAD = (
    "prefect",
    "prefect.flow_engine",
    "prefect.task_engine",
    "flows.sync",
    "flows.watchdog",
    "connectors.jira",
    "connectors.google_calendar",
    "connectors.caldav",
    "connectors.ics",
)


# "0" keeps Prefect's spawn: a fallback, and the baseline of `./dev bench latency`.
SWITCH = "LAUNCHSYNC_WARM_START"


class _OneContext:
    """Stands in for the `multiprocessing` module inside prefect.flow_engine for one call."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self._context = context

    def get_context(self, method: str | None = None) -> multiprocessing.context.BaseContext:
        return self._context


def install() -> bool:
    """Make this process's Prefect Runner fork served runs from a preloaded forkserver.

    Returns False, leaving Prefect's spawn in place, when LAUNCHSYNC_WARM_START=0 or
    Prefect's internals differ from the pinned version's.
    """
    if os.environ.get(SWITCH, "1") == "0":
        return False
    from prefect import flow_engine as engine_module
    from prefect.runner import _starter_direct as starter_module

    # Private modules of the pinned Prefect: typed loosely, checked below.
    flow_engine: Any = engine_module
    _starter_direct: Any = starter_module
    original: Callable[..., Any] = flow_engine.run_flow_in_subprocess
    if getattr(_starter_direct, "run_flow_in_subprocess", None) is not original or not hasattr(
        flow_engine, "multiprocessing"
    ):
        log.warning("launchsync: unknown Prefect Runner internals; runs start by spawn")
        return False
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))

    @wraps(original)
    def forked(*args: Any, **kwargs: Any) -> Any:
        # The Runner calls this from its event loop's thread, so the swap is never seen
        # by another caller; everything else (env, settings, control channel) is Prefect's.
        real = flow_engine.multiprocessing
        flow_engine.multiprocessing = _OneContext(context)
        try:
            return original(*args, **kwargs)
        finally:
            flow_engine.multiprocessing = real

    # The documented override point of DirectSubprocessStarter.
    _starter_direct.run_flow_in_subprocess = forked
    return True
