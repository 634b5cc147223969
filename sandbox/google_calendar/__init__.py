"""A seedable emulator of the Google Calendar API v3 events resource (sandbox contract 5).

    sandbox = CalendarSandbox({"team@example.com": [event_json, ...]})
    with ServedApp(sandbox.app) as served:   # api_endpoint: served.url + "/calendar/v3/"
        sandbox.move_event("team@example.com", "abc", dt.date(2026, 5, 1))

Deviations from Google, on purpose: any bearer token is accepted unless one is set, push
addresses may be plain http (the real API wants https), and the default list order is
the order of last change.
"""

from sandbox.google_calendar.app import CalendarSandbox, load_seed

__all__ = ["CalendarSandbox", "load_seed"]
