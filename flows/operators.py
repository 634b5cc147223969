"""Failed or crashed syncs alert the operators, not silence (Prefect state hooks).

A failure alert is sent at most once per distinct error per day: it is claimed in the
state store when the store is reachable (a broken store is itself worth an alert).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from connectors.alerts import failure_alert
from flows import live
from flows.bootstrap import config_key_of, load_with_secrets

log = logging.getLogger("launchsync.operators")


def tell_operators(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect on_failure / on_crashed hook: send the run's error line to the operators."""
    try:
        _tell(flow_run.parameters.get("config", "launchsync.yaml"), state)
    except Exception as exc:  # a hook must never mask the run's own failure
        log.warning("could not alert the operators: %s", type(exc).__name__)


def _tell(config_path: str, state: Any) -> None:
    settings, redactor = load_with_secrets(config_path)
    operators = settings.alerts.operators
    if not operators:
        return
    key = config_key_of(config_path)
    line = redactor(" ".join(str(state.message or "the sync failed").split())[:500])
    alert = failure_alert(key, f"{state.name}: {line}", operators, day=dt.date.today())
    if not _claim(settings.state.url, key, alert.key, alert.recipients):
        return
    notifier = live.notifier(settings)
    if notifier is not None:
        notifier.send(alert)


def _claim(state_url: str, config_key: str, alert_key: str, recipients: tuple[str, ...]) -> bool:
    from connectors.state_store import StateStore

    try:
        with StateStore.open(state_url) as store:
            claimed: bool = store.claim_alert(config_key, alert_key, recipients)
            if claimed:
                store.confirm_alert(config_key, alert_key)
            return claimed
    except Exception:
        return True  # the store itself may be what failed: better one alert too many
