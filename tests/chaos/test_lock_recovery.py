"""The run lock of a process that died is taken over at once; a live or remote one is not."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time

from connectors.state_store import StateStore, owner_is_dead, process_owner

TTL = dt.timedelta(minutes=30)
HOLD_AND_DIE = """
import datetime as dt, os, sys
from connectors.state_store import StateStore, process_owner
store = StateStore.open(sys.argv[1])
lock = store.lock(sys.argv[2], process_owner("crashing"), dt.timedelta(minutes=30))
assert lock.__enter__()
print(process_owner("crashing"), flush=True)
os._exit(9)  # dies holding the lock: no unlock, no cleanup
"""


def _dead_owner(state_url: str, config_key: str) -> str:
    """Run a process that takes the lock and dies; the owner it held it as."""
    done = subprocess.run(
        [sys.executable, "-c", HOLD_AND_DIE, state_url, config_key],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 9, done.stderr
    return done.stdout.strip()


def test_the_lock_of_a_dead_process_is_taken_over_at_once(state_url: str, config_key: str) -> None:
    dead = _dead_owner(state_url, config_key)
    assert owner_is_dead(dead)
    with (
        StateStore.open(state_url) as store,
        store.lock(config_key, process_owner("next"), TTL) as acquired,
    ):
        assert acquired
        with store.lock(config_key, process_owner("third"), TTL) as also:
            assert not also  # the new holder is alive: it keeps the lock


def test_a_lock_of_a_live_process_or_another_host_waits_for_its_ttl(
    state_url: str, config_key: str
) -> None:
    dead_pid = _dead_owner(state_url, config_key + "-x").split(":")[1]
    with StateStore.open(state_url) as store:
        for holder in (f"elsewhere:{dead_pid}:run", "run-1", process_owner("alive")):
            with store.lock(config_key, holder, TTL) as held:
                assert held
                with store.lock(config_key, process_owner("next"), TTL) as taken:
                    assert not taken, holder


HOLD_ON_ANOTHER_HOST = """
import datetime as dt, sys, time
from connectors.state_store import StateStore
store = StateStore.open(sys.argv[1])
# Owned as from another host: nothing here can tell whether that process still lives.
with store.lock(sys.argv[2], "elsewhere:1:run", dt.timedelta(seconds=2), renew_every=0.5) as held:
    print("held" if held else "refused", flush=True)
    time.sleep(120)
"""


def test_a_renewed_lock_outlives_its_ttl_and_frees_soon_after_its_holder_dies(
    state_url: str, config_key: str
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_ON_ANOTHER_HOST, state_url, config_key],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        ttl = dt.timedelta(seconds=2)
        with StateStore.open(state_url) as store:
            time.sleep(3 * ttl.total_seconds())  # well past the ttl: the heartbeat kept it
            with store.lock(config_key, process_owner("next"), ttl) as taken:
                assert not taken
            holder.send_signal(signal.SIGKILL)  # the other host's process dies mid-run
            holder.wait(timeout=10)
            died = time.monotonic()
            while True:
                with store.lock(config_key, process_owner("next"), ttl) as taken:
                    if taken:
                        break
                assert time.monotonic() - died < 10 * ttl.total_seconds(), "never freed"
                time.sleep(0.2)
            # Freed by expiry, a ttl after the last beat: not at once, not after minutes.
            assert time.monotonic() - died <= ttl.total_seconds() + 2
    finally:
        holder.kill()
        holder.wait(timeout=10)
