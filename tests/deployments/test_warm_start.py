"""`launchsync serve` starts runs warm: guards against a Prefect upgrade or a typo quietly
turning it back into a cold start (the latency benchmark would be the only one to notice)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

from deployments.warm_start import PRELOAD

INSTALL = """
from deployments import warm_start
from prefect import flow_engine
from prefect.runner import _starter_direct
installed = warm_start.install()
replaced = _starter_direct.run_flow_in_subprocess is not flow_engine.run_flow_in_subprocess
print(installed, "forkserver" if replaced else "spawn")
"""


@pytest.mark.parametrize("module", PRELOAD)
def test_every_preloaded_module_imports(module: str) -> None:
    # The forkserver skips a module that fails to import without a word.
    importlib.import_module(module)


@pytest.mark.parametrize(
    ("switch", "expected"),
    [("1", "True forkserver"), ("0", "False spawn")],
)
def test_the_pinned_prefect_takes_the_warm_start_unless_switched_off(
    switch: str, expected: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", INSTALL],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "LAUNCHSYNC_WARM_START": switch},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == expected
