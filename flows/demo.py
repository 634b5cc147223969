"""`launchsync demo`: the whole value in one command, with nothing configured.

Starts the Jira and Google Calendar emulators seeded with a realistic launch plan, runs
the sync with embedded Prefect and SQLite state, opens tickets in the sandbox Jira, sends
alerts to a local SMTP outbox (`.eml` files), then simulates a slip in Jira and shows the
follow-up: a ticket comment and a new alert, and resolution once marketing moves its dates.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console

from connectors.seed import CALENDARS_FILE, read_seed_file
from flows.render import print_plan
from flows.sync import SyncReport, sync_launch_calendar
from sandbox.demo_seed import CALENDAR_ID, demo_config, write_demo_seed
from sandbox.outbox import Outbox
from sandbox.run import RunningSandboxes, running_sandboxes

SLIPPING_VERSION = ("ATL", "2.1")  # engineering moves this one a week during the demo
SLIP = dt.timedelta(days=7)


@dataclass(frozen=True)
class DemoResult:
    """Where the demo left its evidence."""

    workdir: Path
    tickets: list[str]
    emails: list[Path]
    report: Path


def run_demo(workdir: Path, today: dt.date, console: Console, output_format: str) -> DemoResult:
    """Run the scripted demo in `workdir` (seed, config, state, outbox and report go there)."""
    seed = workdir / "seed"
    write_demo_seed(seed, today)
    with running_sandboxes(seed) as sandboxes, Outbox(workdir / "outbox") as outbox:
        config = _write_config(workdir, sandboxes, outbox)
        say = _narrator(console)

        say("1/3", "first sync: every divergence gets one ticket and one alert")
        first = sync_launch_calendar(config=str(config), today=today)
        _show(first, console, output_format)
        version_id, new_date = _slip(sandboxes)
        say("2/3", f"Jira: {' '.join(SLIPPING_VERSION)} moves to {new_date}; sync again")
        second = sync_launch_calendar(config=str(config), today=today)
        _outcome(second, console)
        _align_calendar(sandboxes, seed, version_id, new_date)
        say("3/3", "marketing moves its launch dates to match; sync again")
        third = sync_launch_calendar(config=str(config), today=today)
        _outcome(third, console)
        tickets = _dump_tickets(sandboxes, workdir / "tickets.json")
        return DemoResult(workdir, tickets, outbox.messages(), workdir / "timeline.html")


def _dump_tickets(sandboxes: RunningSandboxes, path: Path) -> list[str]:
    """Write what the sandbox Jira holds for launchsync, so it can be read after the demo."""
    tickets = {
        key: {
            "summary": issue["fields"].get("summary"),
            "status": (issue["fields"].get("status") or {}).get("name"),
            "labels": issue["fields"].get("labels", []),
            "comments": [c.get("body") for c in sandboxes.jira.comments(key)],
        }
        for key, issue in sorted(sandboxes.jira.issues.items())
        if "launchsync" in issue["fields"].get("labels", [])
    }
    path.write_text(json.dumps(tickets, indent=2), encoding="utf-8")
    return list(tickets)


def _write_config(workdir: Path, sandboxes: RunningSandboxes, outbox: Outbox) -> Path:
    calendar = {
        "kind": "google",
        "calendar_ids": [CALENDAR_ID],
        "api_endpoint": sandboxes.google_endpoint,
    }
    data = demo_config(sandboxes.jira_url, calendar, f"sqlite:///{workdir / 'state.db'}")
    # digest_hour 0: the demo shows the day's digest whatever the hour.
    data["alerts"] = {"smtp": outbox.url, "operators": ["ops@launchsync.example"], "digest_hour": 0}
    data["report"] = {"html": str(workdir / "timeline.html")}
    path = workdir / "launchsync.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _slip(sandboxes: RunningSandboxes) -> tuple[str, dt.date]:
    """Move the slipping version a week later in the Jira emulator, as a person would."""
    project, name = SLIPPING_VERSION
    for version_id, version in sandboxes.jira.versions.items():
        if version.get("name") == name and str(version.get("projectId")) == _project_id(
            sandboxes, project
        ):
            new_date = dt.date.fromisoformat(version["releaseDate"]) + SLIP
            sandboxes.jira.move_version(version_id, new_date)
            return version_id, new_date
    raise LookupError(f"demo seed has no version {project} {name}")


def _project_id(sandboxes: RunningSandboxes, key: str) -> str:
    return next(str(p["id"]) for p in sandboxes.seed["projects"] if p["key"] == key)


def _align_calendar(
    sandboxes: RunningSandboxes, seed: Path, version_id: str, new_date: dt.date
) -> None:
    """Move every live calendar event of the version to the new release date."""
    calendars = read_seed_file(seed, CALENDARS_FILE)
    for event in calendars[CALENDAR_ID]:
        links = event.get("extendedProperties", {}).get("private", {})
        if links.get("jiraVersionId") == version_id and event["status"] != "cancelled":
            sandboxes.google.move_event(CALENDAR_ID, event["id"], new_date)


def _narrator(console: Console) -> Callable[[str, str], None]:
    def say(step: str, text: str) -> None:
        console.print(f"\n[bold]{step}[/] {text}", highlight=False)

    return say


def _show(report: SyncReport, console: Console, output_format: str) -> None:
    if report.plan is not None:
        print_plan(report.plan, output_format, console)
    _outcome(report, console)


def _outcome(report: SyncReport, console: Console) -> None:
    if report.outcome is None:
        return
    o = report.outcome
    slips = ", ".join(f"{s.label} {s.old_date} -> {s.new_date}" for s in report.slips)
    console.print(
        f"tickets opened {len(o.opened)}, updated {len(o.commented)}, resolved "
        f"{len(o.resolved)}; alerts sent {len(o.alerted)}" + (f"; slips: {slips}" if slips else ""),
        highlight=False,
    )
