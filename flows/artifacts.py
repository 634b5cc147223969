"""What each run leaves in the Prefect UI: a divergence table and a markdown summary.

Keys carry the config's name, so the UI shows each config's history as one artifact line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.acting import ActOutcome
from flows.redact import Redactor
from flows.timeline import TimelineRow, render_html, render_markdown
from models.plan import Plan, Severity


def divergence_rows(plan: Plan) -> list[dict[str, Any]]:
    """One row per divergence, most urgent first; while blind, first a row per blind source.

    An empty table reads as "all in sync": a blind run must say its launches are unknown.
    """
    blind = [
        {
            "severity": "unknown",
            "kind": "blind",
            "release": "",
            "jira date": "",
            "event": "",
            "event date": "",
            "delta days": "",
            "message": f"launches are unknown: blind to {b.source}: {b.reason}",
        }
        for b in plan.blind
    ]
    return blind + [
        {
            "severity": d.severity.value,
            "kind": d.kind.value,
            "release": d.release.label if d.release else (d.linked_release_id or ""),
            "jira date": str(d.release.date or "no date") if d.release else "",
            "event": d.event.title if d.event else "",
            "event date": str(d.event_date or ""),
            "delta days": d.delta_days if d.delta_days is not None else "",
            "message": d.message,
        }
        for d in plan.divergences
    ]


def summary_markdown(
    plan: Plan, outcome: ActOutcome | None, slips: Iterable[Any], dry_run: bool
) -> str:
    """Counts by severity, what was done, and the slips this run noticed."""
    counts = " · ".join(f"**{plan.count(s)}** {s.value}" for s in Severity)
    lines = [f"# launchsync sync for {plan.today}", "", counts, ""]
    if plan.blind:
        lines += [
            "**Launches are unknown: launchsync is blind to a source.** The divergences "
            "below are from the last data it saw; no tickets or alerts follow from them.",
            "",
            *(f"- `{b.source}`: {b.reason}" for b in plan.blind),
            "",
        ]
    if dry_run or outcome is None:
        lines.append(f"Dry run: {len(plan.actions)} actions planned, none taken.")
    else:
        for name, items in (
            ("Opened", outcome.opened),
            ("Updated", outcome.commented),
            ("Resolved", outcome.resolved),
            ("Calendar changed", outcome.calendar),
            ("Alerted", outcome.alerted),
            ("Delivery unconfirmed", outcome.unconfirmed),
            ("Failed", outcome.failures),
        ):
            lines.append(
                f"- {name}: {len(items)}" + (f" — {', '.join(items[:20])}" if items else "")
            )
    slip_lines = [
        f"- {s.label}: {s.old_date} → {s.new_date}"
        + (f" by {s.changed_by}" if getattr(s, "changed_by", None) else "")
        for s in slips
    ]
    if slip_lines:
        lines += ["", "## Slips since the last run", *slip_lines]
    if plan.problems:
        lines += ["", "## Skipped items", *(f"- {p.item}: {p.error}" for p in plan.problems)]
    return "\n".join(lines) + "\n"


def publish(
    plan: Plan,
    outcome: ActOutcome | None,
    slips: Iterable[Any],
    *,
    config_key: str,
    dry_run: bool,
    redactor: Redactor,
) -> None:
    """Create this run's table and summary artifacts (secrets masked)."""
    rows = [
        {k: redactor(v) if isinstance(v, str) else v for k, v in row.items()}
        for row in divergence_rows(plan)
    ]
    create_table_artifact(
        rows,
        key=f"{config_key}-divergences",
        description=f"launchsync divergences for {plan.today}"
        + (" (launches unknown: launchsync is blind)" if plan.blind else ""),
    )
    create_markdown_artifact(
        redactor(summary_markdown(plan, outcome, slips, dry_run)),
        key=f"{config_key}-summary",
        description=f"launchsync summary for {plan.today}",
    )


def publish_timeline(
    rows: list[TimelineRow],
    plan: Plan,
    *,
    config_key: str,
    html: Path | None,
    redactor: Redactor,
) -> None:
    """The launch timeline as a markdown artifact, and as an HTML page when configured."""
    create_markdown_artifact(
        redactor(render_markdown(rows, plan)),
        key=f"{config_key}-timeline",
        description=f"launch timeline for {plan.today}",
    )
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(redactor(render_html(rows, plan)), encoding="utf-8")
