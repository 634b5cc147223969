"""What kind of channel an alert target is, and how a target is named where it is kept.

A channel URL usually holds its own credential (Slack's and Teams' webhook paths, apprise
tokens, a password in `mailtos://`), so the state store keeps a label instead.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

WEBHOOK_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
SLACK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


def channel_kind(target: str) -> str:
    """How a target is named in errors and logs: email, slack, teams, webhook or its scheme."""
    if "://" not in target:
        return "email"
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme in ("mailto", "mailtos"):
        return "email"
    if scheme in ("workflow", "workflows", "msteams"):
        return "teams"
    if scheme in WEBHOOK_SCHEMES:
        return "webhook"
    if scheme in ("http", "https"):
        if (parts.hostname or "") in SLACK_HOSTS:
            return "slack"
        return "teams" if "/workflows/" in parts.path else "webhook"
    return scheme


def recipient_label(target: str) -> str:
    """An e-mail address as itself; a channel URL as `kind://…#hash` (no token in it)."""
    if "://" not in target:
        return target
    digest = hashlib.sha256(target.encode()).hexdigest()[:12]
    return f"{channel_kind(target)}://…#{digest}"
