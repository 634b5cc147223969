"""Small stateful fakes of launchsync's own ports, for flow tests (never of client libraries).

Each keeps what a user would see: tickets with their comments and status, alerts by
recipient. Connector tests use the real sandboxes instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.base import Alert, TicketRef
from models.errors import ConnectorError
from models.plan import Divergence


@dataclass
class FakeTicket:
    key: str
    identity: str
    summary: str
    comments: list[str] = field(default_factory=list)
    done: bool = False


@dataclass
class FakeTicketSink:
    """Tickets keyed by their identity marker, like the Jira sink's label."""

    tickets: dict[str, FakeTicket] = field(default_factory=dict)

    def open(self, divergence: Divergence) -> TicketRef:
        for ticket in self.tickets.values():
            if ticket.identity == divergence.identity and not ticket.done:
                return TicketRef(ticket.key, f"https://jira.test/browse/{ticket.key}", False)
        key = f"LS-{len(self.tickets) + 1}"
        self.tickets[key] = FakeTicket(key, divergence.identity, divergence.message)
        return TicketRef(key, f"https://jira.test/browse/{key}", True)

    def comment(self, ticket: str, divergence: Divergence) -> bool:
        marker = divergence.fingerprint
        if any(marker in c for c in self.tickets[ticket].comments):
            return False
        self.tickets[ticket].comments.append(f"{divergence.message} [{marker}]")
        return True

    def resolve(self, ticket: str, identity: str) -> bool:
        was_open = not self.tickets[ticket].done
        self.tickets[ticket].done = True
        return was_open

    def open_for(self, identity: str) -> list[FakeTicket]:
        """Open tickets carrying this identity."""
        return [t for t in self.tickets.values() if t.identity == identity and not t.done]

    def find(self, identity: str) -> str | None:
        """The key of the open ticket carrying this identity (the TicketSink port)."""
        return next((t.key for t in self.open_for(identity)), None)

    def url(self, ticket: str) -> str:
        """The ticket's page (the TicketSink port)."""
        return f"https://jira.test/browse/{ticket}"


@dataclass
class FakeNotifier:
    """Alerts by recipient; `fail_next` makes the next sends fail like a dead server."""

    sent: dict[str, list[Alert]] = field(default_factory=dict)
    fail_next: int = 0

    def send(self, alert: Alert) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectorError("email", "send", "connection refused", "check alerts.smtp")
        for recipient in alert.recipients:
            self.sent.setdefault(recipient, []).append(alert)

    def all(self) -> list[Alert]:
        """Every alert delivered, once per alert (not per recipient)."""
        unique = {a.key: a for alerts in self.sent.values() for a in alerts}
        return list(unique.values())
