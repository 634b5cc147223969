"""Headless Debian Chromium for screenshot tests, with the flags this machine needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without the background-networking flags Chromium's own connections are refused here.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def screenshot(url: str, png: Path, profile: Path, size: str, *extra: str) -> str:
    """Render `url` to `png`; returns Chromium's stderr (asserts it exited cleanly)."""
    args = [f"--user-data-dir={profile}", f"--window-size={size}", f"--screenshot={png}"]
    return _chromium(*args, *extra, url).stderr


def dump_dom(url: str, profile: Path) -> str:
    """The DOM of `url` as Chromium rendered it (after its scripts ran), serialized."""
    return _chromium(f"--user-data-dir={profile}", "--dump-dom", url).stdout


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    run = subprocess.run(
        [CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run
