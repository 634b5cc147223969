"""Builders of the live adapters (Jira, calendars, notifier) from a validated config.

Only the composition root (`flows.bootstrap`) calls these; nothing else builds a client.
"""

from __future__ import annotations

import datetime as dt

from connectors.base import CalendarSource, Notifier, ReleaseSource, TicketSink
from models.config import Config


def release_source(config: Config) -> ReleaseSource:
    """Jira versions and issues."""
    from connectors.jira import JiraReleaseSource
    from connectors.jira_settings import JiraSettings

    return JiraReleaseSource(JiraSettings.from_config(config.jira))


def calendar_source(config: Config) -> CalendarSource:
    """The configured calendar: Google, CalDAV or ICS."""
    calendar = config.calendar
    if calendar.kind == "google":
        from connectors.google_auth import GoogleCalendarSettings
        from connectors.google_calendar import GoogleCalendarSource

        return GoogleCalendarSource(GoogleCalendarSettings.from_config(calendar))
    from models.dates import Window

    window = Window.around(dt.date.today())
    if calendar.kind == "caldav":
        from connectors.caldav import CalDavCalendarSource, CalDavSettings

        return CalDavCalendarSource(CalDavSettings.from_config(calendar, window))
    from connectors.ics import IcsCalendarSource

    return IcsCalendarSource.from_config(calendar, window)


def ticket_sink(config: Config) -> TicketSink | None:
    """Jira tickets for divergences."""
    from connectors.jira_settings import JiraSettings
    from connectors.jira_tickets import JiraTicketSink

    return JiraTicketSink(JiraSettings.from_config(config.jira))


def notifier(config: Config) -> Notifier | None:
    """E-mail, Slack, Teams and webhook alerts."""
    from connectors.notify import AppriseNotifier

    return AppriseNotifier.from_config(config.alerts)
