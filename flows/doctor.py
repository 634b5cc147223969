"""`launchsync doctor`: is every configured system reachable, and does it let us in?

Each check reads as little as possible and answers in one line; a failed check says what
to fix. Nothing here writes to Jira, the calendar or the alert channels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from flows import live
from flows.bootstrap import config_key_of, load_with_secrets
from flows.redact import Redactor
from models.config import Config
from models.errors import LaunchsyncError


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    system: str
    what: str
    ok: bool
    detail: str


def run_checks(config_path: Path) -> list[Check]:
    """Every check, in the order a person would fix things."""
    try:
        config, redactor = load_with_secrets(config_path)
    except LaunchsyncError as exc:
        return [Check("config", str(config_path), False, str(exc))]
    checks = [Check("config", str(config_path), True, "valid")]
    for system, what, probe in _probes(config):
        checks.append(_run(system, what, probe, redactor))
    return checks + freshness_checks(config, config_key_of(config_path), redactor)


def freshness_checks(config: Config, config_key: str, redactor: Redactor) -> list[Check]:
    """How fresh each source is, from what the syncs recorded (nothing is read now)."""
    from connectors.state_store import StateStore
    from flows.freshness import lasting

    now = dt.datetime.now(dt.UTC)
    try:
        with StateStore.open(config.state.url) as store:
            health = store.source_health(config_key)
            blind = {b.source: b for b in lasting(store, config, config_key, now, watchdog=True)}
            last_sync = store.last_success(config_key)
    except LaunchsyncError:
        return []  # the state check above already says what is wrong with the store
    if not health and last_sync is None:
        return [Check("freshness", "sync", True, "no sync has run yet: run `launchsync apply`")]
    checks = []
    for h in health:
        seen = f"last read {_ago(h.last_success, now)}"
        failing = f"; {h.failures} failed reads since: {h.last_error}" if h.failures else ""
        detail = blind[h.source].reason if h.source in blind else seen + failing
        checks.append(Check("freshness", h.source, h.source not in blind, redactor(detail)))
    for source, b in blind.items():
        if source not in {h.source for h in health}:
            checks.append(Check("freshness", source, False, redactor(b.reason)))
    if "sync" not in blind:
        checks.append(Check("freshness", "sync", True, f"last success {_ago(last_sync, now)}"))
    return checks


def _ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    if moment is None:
        return "never"
    minutes = int((now - moment).total_seconds() // 60)
    return f"{moment:%Y-%m-%d %H:%M} UTC ({minutes} min ago)"


def _run(system: str, what: str, probe: Callable[[], str], redactor: Redactor) -> Check:
    try:
        return Check(system, what, True, redactor(probe()))
    except LaunchsyncError as exc:
        return Check(system, what, False, redactor(str(exc)))
    except Exception as exc:  # an unexpected library error is still one line, not a trace
        return Check(system, what, False, redactor(f"{type(exc).__name__}: {exc}")[:300])


def _probes(config: Config) -> Iterator[tuple[str, str, Callable[[], str]]]:
    yield "state", _safe_url(config.state.url), lambda: _state(config)
    yield "jira", config.jira.url, lambda: _read(live.release_source(config).releases())
    calendar = ", ".join(config.calendar.calendar_ids)
    yield config.calendar.kind, calendar, lambda: _read(live.calendar_source(config).events())
    notifier = live.notifier(config)
    targets = {t for route in config.alerts.routes for t in route.notify}
    targets.update(config.alerts.operators)
    for target in sorted(targets):
        problem = getattr(notifier, "problem_with", lambda t: None)(target)
        yield "alerts", _kind(target), partial(_ok_unless, problem)


def _state(config: Config) -> str:
    from connectors.state_store import StateStore

    with StateStore.open(config.state.url):
        return "reachable, schema up to date"


def _read(batch: Any) -> str:
    problems = f", {len(batch.problems)} items skipped (see plan)" if batch.problems else ""
    return f"readable: {len(batch.items)} items{problems}"


def _ok_unless(problem: str | None) -> str:
    if problem:
        raise LaunchsyncError(problem)
    return "target looks valid (not sent)"


def _kind(target: str) -> str:
    from connectors.notify import channel_kind

    return channel_kind(target)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable state.url)"
