"""Seedable local emulators of the Jira REST API and the Google Calendar v3 API."""
