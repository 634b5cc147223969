"""The composition root: the one place that builds adapters from config."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.base import CalendarSource, Notifier, ReleaseSource, StateStore, TicketSink
from connectors.seed import SeedCalendarSource, SeedReleaseSource
from flows import live
from flows.redact import Redactor, secrets_of
from models.config import ENV_REF, Config, load_config, parse_config
from models.errors import ConfigError


@dataclass(frozen=True)
class Sources:
    """Where releases and events come from for one run."""

    releases: ReleaseSource
    calendar: CalendarSource


@dataclass(frozen=True)
class Runtime:
    """Everything a sync needs, built once per run from the config."""

    config: Config
    config_key: str
    sources: Sources
    store: StateStore
    sink: TicketSink | None
    notifier: Notifier | None
    redactor: Redactor
    progress: Callable[[str], None] = lambda step: None


BLOCK_PREFIX = "block:"


def config_key_of(ref: Path | str) -> str:
    """A stable, artifact-safe name for a config: its file (or block) name without suffix."""
    name = str(ref).removeprefix(BLOCK_PREFIX)
    stem = Path(name).stem.lower()
    return re.sub(r"[^a-z0-9-]+", "-", stem).strip("-") or "default"


def read_config_text(ref: Path | str) -> tuple[str, str]:
    """(YAML text, what to call it in errors) of a config file or `block:<name>`.

    A Prefect Secret block holding the YAML keeps every credential in it out of files.
    """
    text_ref = str(ref)
    if not text_ref.startswith(BLOCK_PREFIX):
        return Path(ref).read_text(encoding="utf-8"), text_ref
    from prefect.blocks.system import Secret

    name = text_ref.removeprefix(BLOCK_PREFIX)
    try:
        block: Any = Secret.load(name)  # sync here: no event loop runs in this thread
        value = block.get()
    except ValueError:
        raise ConfigError(
            f"Prefect block {name!r}: not found; save the config YAML as a Secret block "
            f"named {name!r} or pass a file path"
        ) from None
    return str(value), f"Prefect Secret block {name}"


def load_with_secrets(
    ref: Path | str, environ: Mapping[str, str] | None = None
) -> tuple[Config, Redactor]:
    """The config and a redactor that knows its secrets and every value taken from ${ENV}."""
    environ = os.environ if environ is None else environ
    if str(ref).startswith(BLOCK_PREFIX):
        text, source = read_config_text(ref)
        config = parse_config(text, source, environ, text_is_secret=True)
    else:
        config = load_config(ref, environ)
        text = Path(ref).read_text(encoding="utf-8")
    expanded = [environ[m.group(1)] for m in ENV_REF.finditer(text) if m.group(1) in environ]
    return config, Redactor([*secrets_of(config), *expanded])


def seed_sources(config: Config, seed_dir: Path) -> Sources:
    """Sources reading a sandbox seed directory: offline what-if runs."""
    if not Path(seed_dir).is_dir():
        raise ConfigError(f"{seed_dir}: not a directory; --from-seed needs a seed directory")
    jira = config.jira
    return Sources(
        releases=SeedReleaseSource(seed_dir, jira.projects, jira.issue_jql, jira.date_field),
        calendar=SeedCalendarSource(seed_dir, config.calendar.calendar_ids),
    )


def live_sources(config: Config) -> Sources:
    """Sources talking to the Jira and calendar named in the config."""
    return Sources(releases=live.release_source(config), calendar=live.calendar_source(config))


@contextmanager
def open_runtime(
    config: Config,
    config_key: str,
    redactor: Redactor,
    *,
    seed_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Iterator[Runtime]:
    """Build every adapter for one run and close them afterwards."""
    from connectors.state_store import StateStore as SqlStateStore
    from flows import live

    with ExitStack() as stack:
        store = stack.enter_context(SqlStateStore.open(config.state.url))
        sources = seed_sources(config, seed_dir) if seed_dir else live_sources(config)
        yield Runtime(
            config=config,
            config_key=config_key,
            sources=sources,
            store=store,
            sink=None if seed_dir else live.ticket_sink(config),
            notifier=live.notifier(config),
            redactor=redactor,
            progress=progress or (lambda step: None),
        )
