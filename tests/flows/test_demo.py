"""`launchsync demo` end to end, as a newcomer runs it: a fresh install, real servers."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.chromium import CHROMIUM, dump_dom, screenshot

ROOT = Path(__file__).resolve().parents[2]
RELEASE_ROW = re.compile(r'<tr class="release-row" data-release="([^"]*)"')
# What a fresh clone lacks (or the wheel must not need): the venv, caches, build output.
NOT_SHIPPED = shutil.ignore_patterns(
    ".*", "__pycache__", "*.egg-info", "build", "dist", "tests", "benchmarks", "*.db"
)


def fresh_install(where: Path) -> Path:
    """A new venv with launchsync installed from a clean copy, not editable; its bin dir."""
    source, venv = where / "source", where / "venv"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv)}))
    # The dependencies come from the dev venv (offline, fast); .pth files inside it are not
    # run, so its editable finder stays off and only the installed copy can be imported.
    (purelib / "dev-venv.pth").write_text(sysconfig.get_path("purelib") + "\n")
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    flags = ["--disable-pip-version-check", "--no-deps", "--no-build-isolation"]
    # --ignore-installed: the dev venv's launchsync is visible here and must not be touched.
    built = subprocess.run(
        [*install, *flags, "--ignore-installed", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return venv / "bin"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("demo")
    bin_dir = fresh_install(tmp_path_factory.mktemp("install"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PREFECT_HOME"] = str(workdir / "prefect-home")
    result = subprocess.run(
        [
            str(bin_dir / "launchsync"),
            "demo",
            "--workdir",
            str(workdir),
            "--today",
            "2026-11-23",
        ],
        cwd=workdir,  # not the repository: only the installed package can be imported
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, result.stdout


def test_the_demo_tells_the_story_of_a_slip(demo: tuple[Path, str]) -> None:
    _, out = demo  # run with no credentials at all, from a fresh install
    assert "overdue_release" in out and "missing_event" in out
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


def seeded_releases(workdir: Path) -> list[str]:
    """Every Jira version the demo seeded, labelled as the report labels it."""
    seed = json.loads((workdir / "seed" / "jira.json").read_text())
    return [f"{p['key']} {v['name']}" for p in seed["projects"] for v in p["versions"]]


def test_the_timeline_report_shows_every_release(demo: tuple[Path, str]) -> None:
    page = (demo[0] / "timeline.html").read_text()
    assert [r for r in seeded_releases(demo[0]) if r not in page] == []
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
    rendered = dump_dom(f"file://{workdir / 'timeline.html'}", workdir / "chromium")
    written = (workdir / "timeline.html").read_text()
    # Every release row of the report survives rendering, and names its release.
    assert RELEASE_ROW.findall(rendered) == RELEASE_ROW.findall(written) != []
    assert [r for r in seeded_releases(workdir) if r not in rendered] == []
