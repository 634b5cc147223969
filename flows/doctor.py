"""`launchsync doctor`: is every configured system reachable, and does it let us in?

Each check reads as little as possible and answers in one line; a failed check says what
to fix, in words from flows/doctor_messages.py (README's Troubleshooting table is made from
it). Nothing here writes to Jira, the calendar or the alert channels: permissions are asked
for, SMTP servers only greeted, webhook hosts only connected to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from flows import doctor_messages as msg
from flows import live
from flows.bootstrap import config_key_of, load_with_secrets
from flows.redact import Redactor
from models.config import Config
from models.errors import ConnectorError, LaunchsyncError

Probe = Callable[[], str]
Explain = Callable[[Exception], str]  # a probe's failure, as a line from doctor_messages
# Only builds the mail URL whose server is greeted; nothing is ever sent to it.
SMTP_PROBE_RECIPIENT = "postmaster@example.invalid"
TICKETS = "tickets in "
WRITE_BACK = "write-back to "
UNREACHABLE = ("connection refused", "connection lost", "timeout", "unknown host")


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
        return [Check("config", str(config_path), False, msg.CONFIG_INVALID.say(config_error=exc))]
    checks = [Check("config", str(config_path), True, "valid")]
    for system, what, probe, explain in _probes(config):
        if what.startswith((TICKETS, WRITE_BACK)) and not checks[-1].ok:
            continue  # the system cannot be read: asking about permissions would only wait again
        checks.append(_run(system, what, probe, explain, redactor))
    return checks + freshness_checks(config, config_key_of(config_path), redactor)


def freshness_checks(config: Config, config_key: str, redactor: Redactor) -> list[Check]:
    """How fresh each source is, from what the syncs recorded (nothing is read now)."""
    from connectors.state_store import StateStore
    from flows.freshness import lasting, webhook_sources

    now = dt.datetime.now(dt.UTC)
    try:
        with StateStore.open(config.state.url) as store:
            health = store.source_health(config_key)
            blind = {b.source: b for b in lasting(store, config, config_key, now, watchdog=True)}
            last_sync = store.last_success(config_key)
            watched = webhook_sources(config)
            heard = [w for w in store.webhook_activity(config_key) if w.source in watched]
    except LaunchsyncError:
        return []  # the state check above already says what is wrong with the store
    if not health and last_sync is None:
        return [Check("freshness", "sync", True, "no sync has run yet: run `launchsync apply`")]
    checks = []
    for h in health:
        read = "renewed" if h.source.startswith("push:") else "read"  # a channel's is renewal
        seen = f"last {read} {_ago(h.last_success, now)}"
        failing = f"; {h.failures} failed reads since: {h.last_error}" if h.failures else ""
        detail = _blind(blind[h.source].reason) if h.source in blind else seen + failing
        checks.append(Check("freshness", h.source, h.source not in blind, redactor(detail)))
    for source, b in blind.items():
        if source not in {h.source for h in health}:
            checks.append(Check("freshness", source, False, redactor(_blind(b.reason))))
    for w in heard:
        if f"webhook:{w.source}" not in blind:
            detail = f"last webhook {_ago(w.last_notified, now)}"
            checks.append(Check("freshness", f"webhook:{w.source}", True, detail))
    if "sync" not in blind:
        checks.append(Check("freshness", "sync", True, f"last success {_ago(last_sync, now)}"))
    return checks


def _blind(reason: str) -> str:
    return msg.SOURCE_BLIND.say(reason=reason)


def _ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    if moment is None:
        return "never"
    minutes = int((now - moment).total_seconds() // 60)
    return f"{moment:%Y-%m-%d %H:%M} UTC ({minutes} min ago)"


def _run(system: str, what: str, probe: Probe, explain: Explain, redactor: Redactor) -> Check:
    shown = redactor(what)  # `what` can be a private feed URL with its token in it
    try:
        return Check(system, shown, True, redactor(probe()))
    except _Said as exc:
        return Check(system, shown, False, redactor(str(exc)))
    except Exception as exc:  # an unexpected library error is still one line, not a trace
        return Check(system, shown, False, redactor(explain(exc))[:400])


def _cause(exc: Exception) -> str:
    """What went wrong, without the fix the raiser suggested: the registry gives the fix."""
    if isinstance(exc, ConnectorError) and exc.status is not None:
        return f"status {exc.status}" if isinstance(exc.status, int) else str(exc.status)
    if not isinstance(exc, LaunchsyncError):
        return f"{type(exc).__name__}: {exc}"
    said = str(exc).split("; ")[0]
    # "<system> <call> failed: <why>": the check's line already names the system.
    return said.partition(" failed: ")[2] or said


def _says(trouble: msg.Trouble, **fields: object) -> Explain:
    return lambda exc: trouble.say(**fields, cause=_cause(exc))


def _jira_trouble(url: str, exc: Exception) -> str:
    status = exc.status if isinstance(exc, ConnectorError) else None
    trouble = msg.JIRA_FAILED
    if status == 401:
        trouble = msg.JIRA_CREDENTIALS
    elif status == 403:
        trouble = msg.JIRA_FORBIDDEN
    elif status in UNREACHABLE:
        trouble = msg.JIRA_UNREACHABLE
    return trouble.say(url=url, cause=_cause(exc))


def _calendar_trouble(kind: str, exc: Exception) -> str:
    if isinstance(exc, ConnectorError) or not isinstance(exc, LaunchsyncError):
        return msg.CALENDAR_FAILED.say(kind=kind, cause=_cause(exc))
    return msg.CALENDAR_MISSING.say(calendar_problem=_cause(exc))


def _probes(config: Config) -> Iterator[tuple[str, str, Probe, Explain]]:
    state = _safe_url(config.state.url)
    yield "state", state, lambda: _state(config), _says(msg.STATE_UNREACHABLE, url=state)
    jira = partial(_jira_trouble, config.jira.url)
    yield "jira", config.jira.url, lambda: _read(live.release_source(config).releases()), jira
    if project := config.jira.ticket_project:
        yield "jira", f"{TICKETS}{project}", lambda: _ticket_permissions(config, project), jira
    kind, calendar = config.calendar.kind, ", ".join(config.calendar.calendar_ids)
    unreadable = partial(_calendar_trouble, kind)
    yield kind, calendar, lambda: _read(live.calendar_source(config).events()), unreadable
    if config.calendar.write_back:
        yield kind, f"{WRITE_BACK}{calendar}", lambda: _write_access(config), unreadable
    yield from _alert_probes(config)


def _write_access(config: Config) -> str:
    """Fail when write-back is on and the account may only read a configured calendar."""
    source = live.calendar_source(config)
    refused: dict[str, str] = getattr(source, "read_only_calendars", dict)()
    if refused:
        calendars = ", ".join(f"{cid} (access role {role})" for cid, role in refused.items())
        raise _Said(msg.CALENDAR_READ_ONLY.say(calendars=calendars))
    return "may change events"


def _ticket_permissions(config: Config, project: str) -> str:
    sink = live.ticket_sink(config)
    missing: list[str] = getattr(sink, "missing_permissions", list)()
    if missing:
        raise _Said(msg.TICKET_PERMISSIONS.say(missing=", ".join(missing), project=project))
    return "may create, comment on and transition tickets"


def _alert_probes(config: Config) -> Iterator[tuple[str, str, Probe, Explain]]:
    notifier = live.notifier(config)
    targets = {t for route in config.alerts.routes for t in route.notify}
    targets.update(config.alerts.operators)
    servers: dict[tuple[str, int], str] = {}  # each server checked once, by its first target
    if config.alerts.smtp is not None:  # owners' fallback e-mails need it even with no route
        targets.add(SMTP_PROBE_RECIPIENT)
    for target in sorted(targets):
        kind = _kind(target)
        if target != SMTP_PROBE_RECIPIENT:
            check = partial(_valid_target, config, notifier, target)
            yield "alerts", kind, check, _says(msg.ALERT_TARGET, kind=kind)
        if (address := _address(notifier, target)) is not None:
            servers.setdefault(address, target)
    for (host, port), target in servers.items():
        kind, shown = _kind(target), f"{host}:{port}"
        reach = partial(getattr(notifier, "reach"), target)  # noqa: B009 (not every Notifier)
        yield "alerts", f"{_server_kind(kind)} {shown}", reach, partial(_reach_trouble, kind, shown)


def _valid_target(config: Config, notifier: Any, target: str) -> str:
    if _kind(target) == "email" and "://" not in target and config.alerts.smtp is None:
        raise _Said(msg.NO_SMTP.say())
    if problem := getattr(notifier, "problem_with", lambda t: None)(target):
        raise LaunchsyncError(problem)
    return "target looks valid"


def _address(notifier: Any, target: str) -> tuple[str, int] | None:
    """Where a send to the target connects; None when unknown or the target is invalid."""
    try:
        address: tuple[str, int] | None = getattr(notifier, "address", lambda t: None)(target)
    except LaunchsyncError:
        return None  # the target's own check says what is wrong with it
    return address


def _server_kind(kind: str) -> str:
    return "smtp" if kind == "email" else kind


def _reach_trouble(kind: str, address: str, exc: Exception) -> str:
    if kind != "email":
        return msg.WEBHOOK_UNREACHABLE.say(kind=kind, address=address, cause=_cause(exc))
    login = isinstance(exc, ConnectorError) and exc.call == "login"
    trouble = msg.SMTP_LOGIN if login else msg.SMTP_UNREACHABLE
    return trouble.say(address=address, cause=_cause(exc))


class _Said(LaunchsyncError):
    """A failure the probe already put in the registry's words."""


def _state(config: Config) -> str:
    from connectors.state_store import StateStore

    with StateStore.open(config.state.url):
        return "reachable, schema up to date"


def _read(batch: Any) -> str:
    if batch.unread:
        # A sync skips a missing calendar and reads the rest; the doctor must still fail it.
        raise LaunchsyncError(_unread(batch))
    problems = f", {len(batch.problems)} items skipped (see plan)" if batch.problems else ""
    return f"readable: {len(batch.items)} items{problems}"


def _unread(batch: Any) -> str:
    """The problems of the calendars a read left out, or their names when none is found."""
    # Calendar-level problems are named "calendar <id>" (an ICS feed URL only by host and
    # file name: the URL can be its password), event-level ones otherwise.
    said = [p for p in batch.problems if p.item.startswith("calendar ")]
    if not said:
        return f"could not read calendar {', '.join(batch.unread)}"
    # Each problem is "what; fix": list every calendar's what, then the fix once.
    what = " and ".join(f"{p.item}: {p.error.partition('; ')[0]}" for p in said)
    fix = said[0].error.partition("; ")[2]
    return f"{what}; {fix}" if fix else what


def _kind(target: str) -> str:
    from connectors.channels import channel_kind

    return channel_kind(target)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable state.url)"
