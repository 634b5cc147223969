"""Every failure `launchsync doctor` reports: the problem and its fix (README keeps a table).

A check's failure line is `problem; fix`, the problem filled with the item that failed.
The README's Troubleshooting table is generated from TROUBLES:
`python -m flows.doctor_messages` prints it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BEGIN = "<!-- troubleshooting:begin -->"
END = "<!-- troubleshooting:end -->"
FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Trouble:
    """One failure doctor can report: what is wrong ({fields} name the item) and the fix."""

    problem: str
    fix: str

    def say(self, **fields: object) -> str:
        """The one-line message: the problem with its item filled in, then the fix."""
        return f"{self.problem.format(**fields)}; {self.fix.format(**fields)}"


CONFIG_INVALID = Trouble(
    "{config_error}",  # names the file and the key, and how to fix that key
    "the Configuration section lists every key, its type and default",
)
STATE_UNREACHABLE = Trouble(
    "state store {url} cannot be opened ({cause})", "start the database or fix `state.url`"
)
JIRA_UNREACHABLE = Trouble(
    "Jira at {url} cannot be reached ({cause})",
    "check `jira.url` and that this machine reaches it",
)
JIRA_CREDENTIALS = Trouble(
    "Jira at {url} refused the credentials ({cause})",
    "check `jira.email` + `jira.api_token` (Cloud) or `jira.token` (Server/DC)",
)
JIRA_FORBIDDEN = Trouble(
    "Jira at {url} denied access ({cause})",
    "give the account Browse Projects in `jira.projects`",
)
JIRA_FAILED = Trouble(
    "reading Jira at {url} failed ({cause})",
    "fix what it names; a status 5xx or 429 passes: run doctor again later",
)
TICKET_PERMISSIONS = Trouble(
    "the Jira account lacks {missing} in project {project}",
    "grant them in that project's permission scheme, or set `jira.tickets.project` "
    "to a project where the account has them",
)
CALENDAR_MISSING = Trouble(
    "{calendar_problem}",  # the calendar's id and what its read answered
    "fix calendar.calendar_ids or share the calendar with the account",
)
CALENDAR_FAILED = Trouble(
    "{kind} calendar cannot be read ({cause})",
    "check the calendar credentials, `calendar.api_endpoint` and that this machine reaches it",
)
CALENDAR_READ_ONLY = Trouble(
    "`calendar.write_back` is on but the account may not change events in {calendars}",
    'share each calendar with the account as "Make changes to events",'
    " or set `calendar.write_back: false`",
)
ALERT_TARGET = Trouble(
    "alert target ({kind}) cannot be used ({cause})",
    "fix the target in `alerts.routes[].notify` or `alerts.operators`",
)
NO_SMTP = Trouble(
    "e-mail targets are configured but no SMTP server",
    "set `alerts.smtp` to an apprise mail URL (`mailtos://user:pass@host:587?from=...`)",
)
SMTP_UNREACHABLE = Trouble(
    "SMTP server {address} cannot be reached ({cause})",
    "check the host and port in `alerts.smtp`",
)
SMTP_LOGIN = Trouble(
    "SMTP server {address} refused the login ({cause})",
    "check the user and password in `alerts.smtp`",
)
WEBHOOK_UNREACHABLE = Trouble(
    "{kind} host {address} cannot be reached ({cause})",
    "check the host and port of the target URL, and that this machine reaches it",
)
SOURCE_BLIND = Trouble(
    "launchsync is blind to it: {reason}",
    "fix what the checks above name, then run `launchsync apply`",
)

TROUBLES: tuple[Trouble, ...] = (
    CONFIG_INVALID,
    STATE_UNREACHABLE,
    JIRA_UNREACHABLE,
    JIRA_CREDENTIALS,
    JIRA_FORBIDDEN,
    JIRA_FAILED,
    TICKET_PERMISSIONS,
    CALENDAR_MISSING,
    CALENDAR_FAILED,
    CALENDAR_READ_ONLY,
    ALERT_TARGET,
    NO_SMTP,
    SMTP_UNREACHABLE,
    SMTP_LOGIN,
    WEBHOOK_UNREACHABLE,
    SOURCE_BLIND,
)


def troubleshooting_table() -> str:
    """The README's Troubleshooting table: each problem doctor reports and its fix."""
    rows = [f"| {_cell(t.problem)} | {_cell(t.fix)} |" for t in TROUBLES]
    return "\n".join([BEGIN, "| doctor says | what to do |", "|---|---|", *rows, END])


def _cell(text: str) -> str:
    # Placeholders read as *item* (a bare <item> would be taken for HTML); a pipe ends a cell.
    return FIELD.sub(r"*\1*", text).replace("|", "\\|")


if __name__ == "__main__":
    print(troubleshooting_table())
