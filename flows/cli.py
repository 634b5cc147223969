"""`launchsync` — the command line (contract 1).

Errors are one line on stderr without a traceback (exit 2); `--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import yaml
from rich.console import Console

from flows.bootstrap import seed_sources
from flows.planning import build_plan, today_in
from flows.render import print_plan
from models.config import load_config
from models.dates import DATE_RANGE, plausible
from models.errors import LaunchsyncError

DEFAULT_CONFIG = Path("launchsync.yaml")


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None
    if not plausible(day):  # fuzz-found: 9999-12-31 overflowed the horizon (a traceback)
        raise argparse.ArgumentTypeError(f"{text!r} is out of range; use a date in {DATE_RANGE}")
    return day


def cron(text: str) -> str:
    """A cron expression as Prefect's schedules accept it; else a one-line usage error."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=text)
    except ValidationError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a cron expression; use five fields, e.g. '*/15 * * * *'"
        ) from None
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="launchsync", description="Keep Jira release dates and marketing calendars in step."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = commands.add_parser("plan", help="dry run: print where the dates diverge")
    plan.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config YAML")
    plan.add_argument(
        "--from-seed",
        type=Path,
        metavar="DIR",
        help="read a sandbox seed directory instead of Jira and the calendar",
    )
    _sync_options(plan)
    _output_options(plan)

    apply = commands.add_parser("apply", help="plan, then open tickets and send alerts")
    apply.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config YAML")
    _sync_options(apply)
    _output_options(apply)

    doctor = commands.add_parser("doctor", help="check config, credentials and reachability")
    doctor.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config YAML")

    serve = commands.add_parser("serve", help="run scheduled, nightly and on-change syncs here")
    serve.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config YAML")
    serve.add_argument(
        "--cron", type=cron, default="*/15 * * * *", help="schedule of incremental syncs"
    )

    deploy = commands.add_parser(
        "deploy", help="register the three deployments on PREFECT_API_URL for a work pool"
    )
    deploy.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config YAML")
    deploy.add_argument(
        "--pool", default="launchsync", help="process work pool (created if missing)"
    )
    deploy.add_argument(
        "--cron", type=cron, default="*/15 * * * *", help="schedule of incremental syncs"
    )

    hooks = commands.add_parser("webhooks", help="serve the Jira / Google webhook receiver")
    hooks.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config YAML")

    demo = commands.add_parser("demo", help="the embedded demo: no credentials needed")
    demo.add_argument("--workdir", type=Path, help="keep the demo's files here")
    demo.add_argument("--ui", action="store_true", help="also start the Prefect UI on loopback")
    _output_options(demo)

    box = commands.add_parser("sandbox", help="serve the Jira and Google Calendar emulators")
    box.add_argument("--seed", type=Path, required=True, help="seed directory (contract 5)")
    box.add_argument("--write-config", type=Path, required=True, metavar="PATH")
    box.add_argument("--jira-port", type=int, default=0)
    box.add_argument("--google-port", type=int, default=0)
    return parser


def _sync_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--full",
        action="store_true",
        help="re-read everything instead of the changes since the last run",
    )
    command.add_argument(
        "--release",
        action="append",
        default=[],
        metavar="ID",
        help="act only on this release (version id or issue key); repeatable",
    )


def _output_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--today", type=_date, help="plan as of this date (YYYY-MM-DD)")
    command.add_argument("--format", choices=("table", "json"), default="table")


def run_plan(args: argparse.Namespace, console: Console) -> int:
    """`launchsync plan`: read both sides, reconcile, print; offline with --from-seed."""
    if args.from_seed is None:
        return _run_flow(args, console, dry_run=True)
    config = load_config(args.config)
    plan = build_plan(
        config, seed_sources(config, args.from_seed), today=args.today or today_in(config)
    )
    print_plan(plan, args.format, console)
    return 0


def run_apply(args: argparse.Namespace, console: Console) -> int:
    """`launchsync apply`: the sync flow, acting on what it finds."""
    return _run_flow(args, console, dry_run=False)


def _run_flow(args: argparse.Namespace, console: Console, *, dry_run: bool) -> int:
    from flows.progress import progress_display
    from flows.sync import sync_launch_calendar

    with progress_display(console):
        report = sync_launch_calendar(
            config=str(args.config),
            dry_run=dry_run,
            full=args.full,
            release_ids=args.release or None,
            today=args.today,
        )
    if report.plan is None:
        console.print(f"[yellow]{report.skipped}[/]")
        return 0
    print_plan(report.plan, args.format, console)
    if report.outcome is not None and args.format == "table":
        console.print(f"acted: {report.outcome.summary()}", highlight=False)
    return 0


def run_demo(args: argparse.Namespace, console: Console) -> int:
    """`launchsync demo`: sandboxes, sync, tickets, alerts, a slip and its follow-up."""
    from flows.demo import run_demo as demo
    from flows.progress import progress_display
    from flows.ui import prefect_ui

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="launchsync-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    today = args.today or dt.date.today()
    with prefect_ui(workdir, enabled=args.ui, console=console):
        with progress_display(console):
            result = demo(workdir, today, console, args.format)
        shown = ", ".join(result.tickets[:6]) + (" ..." if len(result.tickets) > 6 else "")
        console.print(f"\n[bold]Tickets in the sandbox Jira:[/] {len(result.tickets)} ({shown})")
        console.print(
            f"[bold]Alerts delivered:[/] {len(result.emails)} e-mails in {workdir / 'outbox'}",
            highlight=False,
        )
        console.print(f"[bold]Launch timeline:[/] {result.report}", highlight=False)
        console.print(f"[bold]Config used:[/] {workdir / 'launchsync.yaml'}", highlight=False)
    return 0


def run_sandbox(args: argparse.Namespace, console: Console) -> int:
    """`launchsync sandbox`: serve both emulators and write a config pointing at them."""
    from sandbox.run import running_sandboxes, sandbox_config

    with running_sandboxes(args.seed, args.jira_port, args.google_port) as running:
        state = f"sqlite:///{Path(args.write_config).parent.resolve() / 'launchsync.db'}"
        Path(args.write_config).write_text(
            yaml.safe_dump(sandbox_config(running, state), sort_keys=False), encoding="utf-8"
        )
        console.print(
            f"Jira {running.jira_url} · Google {running.google_endpoint} · "
            f"config written to {args.write_config} · Ctrl-C stops",
            highlight=False,
        )
        threading.Event().wait()
    return 0


def run_doctor(args: argparse.Namespace, console: Console) -> int:
    """`launchsync doctor`: one line per check; exit 1 when anything needs fixing."""
    from flows.doctor import run_checks

    checks = run_checks(args.config)
    for check in checks:
        mark = "[green]ok  [/]" if check.ok else "[red]FAIL[/]"
        # soft_wrap (fuzz-found): off a terminal rich broke long details into several lines.
        console.print(
            f"{mark} {check.system:<8} {check.what}: {check.detail}",
            highlight=False,
            soft_wrap=True,
        )
    failed = sum(not c.ok for c in checks)
    console.print(f"{failed} of {len(checks)} checks need fixing" if failed else "all good")
    return 1 if failed else 0


def run_serve(args: argparse.Namespace, console: Console) -> int:
    """`launchsync serve`: Prefect `serve` of the three deployments in this process."""
    from deployments.serving import serve

    load_config(args.config)  # fail fast, in one line, before Prefect starts
    serve(args.config, args.cron)
    return 0


def run_deploy(args: argparse.Namespace, console: Console) -> int:
    """`launchsync deploy`: the three deployments on a Prefect server, for a work pool."""
    from deployments.serving import deploy

    load_config(args.config)  # fail fast, in one line, before talking to the server
    deploy(args.config, args.pool, args.cron)
    console.print(
        f"workers run them: prefect worker start --pool {args.pool}"
        f" (with launchsync installed and {args.config.resolve()} readable)",
        highlight=False,
    )
    return 0


def run_webhooks(args: argparse.Namespace, console: Console) -> int:
    """`launchsync webhooks`: the receiver on the configured host and port."""
    import uvicorn

    from connectors.state_store import StateStore
    from deployments.webhooks import build_receiver, emit_prefect_event, settings_from
    from flows.bootstrap import config_key_of, load_with_secrets

    config, redactor = load_with_secrets(args.config)
    redactor.install()
    key = config_key_of(args.config)
    settings = settings_from(config, key)
    hooks = config.webhooks
    console.print(f"launchsync webhooks on http://{hooks.host}:{hooks.port}/webhooks/(jira|google)")
    # The store notes each source's last webhook: the watchdog's proof that they still arrive.
    with StateStore.open(config.state.url) as store:
        app = build_receiver(
            settings, emit_prefect_event, lambda source: store.record_webhook(key, source)
        )
        uvicorn.run(app, host=hooks.host, port=hooks.port, log_level="info")
    return 0


COMMANDS = {
    "plan": run_plan,
    "apply": run_apply,
    "doctor": run_doctor,
    "serve": run_serve,
    "deploy": run_deploy,
    "webhooks": run_webhooks,
    "demo": run_demo,
    "sandbox": run_sandbox,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `launchsync` console script."""
    args = _parser().parse_args(argv)
    # Prefect reads these when first imported: its INFO lines would drown the CLI's output.
    # Not for serve/webhooks: their flow-run subprocesses inherit it and the UI needs logs.
    if args.command not in ("serve", "webhooks"):
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The embedded server gives up after 20 s by default: too soon on a busy 2-core machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # Fuzz-found: a title with a lone surrogate (legal in JSON) crashed printing the plan.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    # Off a terminal rich assumes 80 columns; plans read better a little wider.
    console = Console(width=None if sys.stdout.isatty() else 140)
    try:
        return COMMANDS[args.command](args, console)
    except LaunchsyncError as exc:
        if args.debug:
            raise
        print(f"launchsync: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("launchsync: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
