"""The sync as the flow tests run it: inside a Prefect flow, over ports a test may swap."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.sync import SyncReport, run_sync


@flow(validate_parameters=False)
def sync_in_flow(runtime: Any, options: Any) -> SyncReport:
    """`run_sync` in a flow run of the test harness."""
    # Typed Any: Prefect derives a parameter schema, which ports (Protocols) cannot have.
    return run_sync(runtime, options)
