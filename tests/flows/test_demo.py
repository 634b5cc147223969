"""`launchsync demo` end to end, as a newcomer runs it: a real process, real servers."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chromium import CHROMIUM, screenshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "PREFECT_HOME": str(workdir / "prefect-home")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "demo",
            "--workdir",
            str(workdir),
            "--today",
            "2026-11-23",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, result.stdout


def test_the_demo_tells_the_story_of_a_slip(demo: tuple[Path, str]) -> None:
    _, out = demo
    assert "12 critical, 14 warning, 3 info" in out
    # Each alert goes to the event's organizer (marketing) and the project lead (engineering).
    assert "tickets opened 26, updated 0, resolved 0; alerts sent 31" in out
    assert "updated 2, resolved 0; alerts sent 4; slips: ATL 2.1 2026-12-24 -> 2026-12-31" in out
    assert "tickets opened 0, updated 0, resolved 2; alerts sent 0" in out


def test_the_sandbox_jira_holds_one_ticket_per_divergence(demo: tuple[Path, str]) -> None:
    tickets = json.loads((demo[0] / "tickets.json").read_text())
    assert len(tickets) == 26
    markers = [label for t in tickets.values() for label in t["labels"] if label != "launchsync"]
    assert len(markers) == len(set(markers)) == 26  # one marker, one ticket, per divergence
    slipped = [t for t in tickets.values() if "ATL 2.1" in t["summary"]]
    assert len(slipped) == 2
    assert all(t["status"] == "Done" and len(t["comments"]) == 1 for t in slipped)


def test_alerts_arrive_as_eml_files_saying_what_moved(demo: tuple[Path, str]) -> None:
    files = sorted((demo[0] / "outbox").glob("*.eml"))
    assert len(files) == 35
    mails = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert all(m["Subject"].startswith("[launchsync]") for m in mails)
    follow_ups = [m for m in mails[31:] if "Atlas 2.1" in m["Subject"]]
    assert sorted(m["To"] for m in follow_ups) == [
        "eng-atlas@launchsync.example",
        "eng-atlas@launchsync.example",
        "pmm-atlas@launchsync.example",
        "pmm-atlas@launchsync.example",
    ]
    # An overdue release has no event, hence no organizer: its project lead hears of it.
    overdue = [m for m in mails if "overdue" in m["Subject"]]
    assert len(overdue) == 3 and all(m["To"].startswith("eng-") for m in overdue)
    body = follow_ups[0].get_body(preferencelist=("plain",)).get_content()
    assert "2026-12-24" in body and "2026-12-31" in body


def test_the_timeline_report_shows_every_release(demo: tuple[Path, str]) -> None:
    page = (demo[0] / "timeline.html").read_text()
    seed = json.loads((demo[0] / "seed" / "jira.json").read_text())
    for project in seed["projects"]:
        for version in project["versions"]:
            assert f"{project['key']} {version['name']}" in page
    assert "2026-12-24 → 2026-12-31" in page  # the slip history


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_timeline_renders_in_headless_chromium(demo: tuple[Path, str]) -> None:
    workdir = demo[0]
    png = workdir / "timeline.png"
    stderr = screenshot(
        f"file://{workdir / 'timeline.html'}",
        png,
        workdir / "chromium",
        "1400,2400",
        "--enable-logging=stderr",
    )
    assert png.stat().st_size > 50_000  # a rendered page, not a blank one
    assert "Uncaught" not in stderr and "ERR_FILE_NOT_FOUND" not in stderr
