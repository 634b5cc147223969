"""launchsync's own errors; each message is one line naming the item and the fix.

LaunchsyncError
├── ConfigError        a config file or value is wrong
├── SeedError          a sandbox seed file or item is wrong
├── ItemError          one vendor item (version, issue, event) cannot be read
├── ConnectorError     an outside system refused or failed (system, call, status)
└── WebhookError       an inbound notification is refused (status)
"""

from __future__ import annotations

ITEM_CHARS, PROBLEM_CHARS = 120, 240


def one_line(text: str, limit: int) -> str:
    """`text` fit for a one-line message: unprintable characters escaped, cut at `limit`.

    Vendor values end up in messages; a newline, NUL, RTL override or lone surrogate in
    one must not break the line (or the terminal), and a huge one must not flood it.
    """
    shown = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    if len(shown) <= limit:
        return shown
    # Keep both ends: the start of the value and the item's container ("... of PROJ").
    head = (limit - 1) // 2
    return shown[:head] + "…" + shown[len(shown) - (limit - 1 - head) :]


class LaunchsyncError(Exception):
    """Base of every error launchsync raises on purpose."""


class ConfigError(LaunchsyncError):
    """A config file or value is wrong."""


class SeedError(LaunchsyncError):
    """A sandbox seed file or item is wrong."""


class ItemError(LaunchsyncError):
    """One vendor item cannot be turned into a domain object; the others still sync."""

    def __init__(self, item: str, problem: str) -> None:
        # Fuzz-found: items and problems quote vendor values verbatim (names, bad dates).
        item, problem = one_line(item, ITEM_CHARS), one_line(problem, PROBLEM_CHARS)
        super().__init__(f"{item}: {problem}")
        self.item = item
        self.problem = problem


class ConnectorError(LaunchsyncError):
    """An outside system failed a call after retries, or refused it."""

    def __init__(self, system: str, call: str, status: int | str | None, detail: str = "") -> None:
        where = f"{system} {call}"
        status_text = f" (last status {status})" if status is not None else ""
        super().__init__(f"{where} failed{status_text}{': ' + detail if detail else ''}")
        self.system = system
        self.call = call
        self.status = status


class WebhookError(LaunchsyncError):
    """An inbound webhook or push notification is refused."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
