"""Plans for people (a rich table) and for tools (contract 2 JSON)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from models.plan import Divergence, Plan, Severity

SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def plan_json(plan: Plan) -> str:
    """The plan as contract-2 JSON text."""
    return json.dumps(plan.to_json(), indent=2, sort_keys=False)


def _short(d: Divergence) -> tuple[str, str, str, str]:
    release = f"{d.release.key} {d.release.name}" if d.release else d.linked_release_id or "-"
    release_date = str(d.release.date or "no date") if d.release else ""
    event = d.event.title if d.event else "-"
    event_date = str(d.event_date or "")
    return release, release_date, event, event_date


def plan_table(plan: Plan) -> Table:
    """Divergences as a table, most urgent first."""
    counts = ", ".join(f"{plan.count(s)} {s.value}" for s in Severity)
    table = Table(title=f"launchsync plan for {plan.today}: {counts}", title_justify="left")
    for column in ("severity", "kind", "release", "Jira date", "launch event", "event date"):
        table.add_column(column, no_wrap=column.endswith("date"))
    table.add_column("delta", justify="right")
    for d in plan.divergences:
        delta = f"{d.delta_days:+d}d" if d.delta_days is not None else ""
        table.add_row(
            d.severity.value, d.kind.value, *_short(d), delta, style=SEVERITY_STYLE[d.severity]
        )
    return table


def print_plan(plan: Plan, output_format: str, console: Console) -> None:
    """Print the plan as `table` or `json`; problems go with the table as notes."""
    if output_format == "json":
        console.print_json(plan_json(plan)) if console.is_terminal else print(plan_json(plan))
        return
    console.print(plan_table(plan))
    for problem in plan.problems:
        console.print(f"[yellow]skipped[/] {problem.item}: {problem.error}", highlight=False)
    for blind in plan.blind:
        console.print(f"[bold red]unknown[/] {blind.source}: {blind.reason}", highlight=False)
    if plan.blind:
        # Never "in step" on stale data: say what is unknown and that nothing was done.
        console.print(
            "[bold red]Launches are unknown:[/] launchsync is blind to a source, so this is "
            "the last data it saw and no tickets or alerts follow from it."
        )
    elif not plan.divergences:
        console.print("[green]Engineering and marketing dates are in step.[/]")
