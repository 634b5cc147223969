"""Evaluate parsed JQL against stored issues, the way Jira does for the supported fields.

Dates in JQL are read in the user's time zone (as Jira does with the profile zone);
`!=` and `not in` never match an issue whose field is empty, like Jira.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.jira.jql import BoolOp, Clause, JqlError, Node, Not, Query

RELATIVE = re.compile(r"^([+-]?)(\d+)([wdhm])$")
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
ORDERED_OPS = {">", ">=", "<", "<="}
ALIASES = {"issuekey": "key", "type": "issuetype", "due": "duedate", "fixversion": "fixVersion"}
TEXT_FIELDS = {"summary", "description", "text", "comment"}
Getter = Callable[[Mapping[str, Any]], list[str]]


def _names(*keys: str) -> Callable[[Any], list[str]]:
    def names(value: Any) -> list[str]:
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            if isinstance(item, Mapping):
                out.extend(str(item[k]).lower() for k in keys if item.get(k) is not None)
            elif item not in (None, ""):
                out.append(str(item).lower())
        return out

    return names


DISCRETE: dict[str, tuple[str, Callable[[Any], list[str]]]] = {
    "project": ("project", _names("key", "id", "name")),
    "labels": ("labels", _names()),
    "fixVersion": ("fixVersions", _names("name", "id")),
    "status": ("status", _names("name", "id")),
    "issuetype": ("issuetype", _names("name", "id")),
    "assignee": ("assignee", _names("accountId", "name", "emailAddress", "displayName")),
}


@dataclass(frozen=True)
class Context:
    """What evaluation needs besides the issue: custom fields, the user's zone, the time."""

    custom: Mapping[str, Mapping[str, Any]]  # lower-case name or id -> field JSON
    zone: ZoneInfo
    now: dt.datetime


def parse_time(value: str, ctx: Context) -> dt.datetime:
    """A JQL date value: `2026-01-05`, `2026/01/05 09:30`, or relative like `-15m`."""
    relative = RELATIVE.match(value.strip())
    if relative:
        sign = -1 if relative.group(1) == "-" else 1
        delta = dt.timedelta(**{UNITS[relative.group(3)]: sign * int(relative.group(2))})
        return ctx.now + delta
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).replace(tzinfo=ctx.zone)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{value}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )


def issue_time(raw: Any) -> dt.datetime | None:
    """An issue's timestamp field (`2026-01-05T09:00:00.000+0000`) as an aware datetime."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return dt.datetime.fromisoformat(raw)


def canonical(field: str, ctx: Context) -> tuple[str, str]:
    """(kind, field id) of a JQL field name; kind is key|discrete|datetime|date."""
    name = ALIASES.get(field.lower(), field)
    lower = name.lower()
    if lower == "key" or lower == "id":
        return "key", "key"
    if name in DISCRETE or lower in DISCRETE:
        return "discrete", name if name in DISCRETE else lower
    if lower == "statuscategory":
        return "category", "status"
    if lower in ("updated", "created", "resolutiondate"):
        return "datetime", lower if lower != "resolutiondate" else "resolutiondate"
    if lower == "duedate":
        return "date", "duedate"
    if lower in TEXT_FIELDS:
        raise JqlError(
            f"Unsupported in the launchsync Jira sandbox: text search on '{field}'; "
            "filter by project, labels, fixVersion, key, status or dates."
        )
    cf = re.fullmatch(r"cf\[(\d+)\]", lower)
    custom = ctx.custom.get(f"customfield_{cf.group(1)}" if cf else lower)
    if custom is None:
        raise JqlError(f"Field '{field}' does not exist or you do not have permission to view it.")
    kind = (custom.get("schema") or {}).get("type")
    if kind in ("date", "datetime"):
        return str(kind), str(custom["id"])
    return "discrete", str(custom["id"])


def matches(node: Node | None, issue: Mapping[str, Any], ctx: Context) -> bool:
    """True when the issue satisfies the condition."""
    if node is None:
        return True
    if isinstance(node, BoolOp):
        test = all if node.op == "and" else any
        return test(matches(part, issue, ctx) for part in node.parts)
    if isinstance(node, Not):
        return not matches(node.part, issue, ctx)
    return _clause(node, issue, ctx)


def _clause(clause: Clause, issue: Mapping[str, Any], ctx: Context) -> bool:
    kind, field = canonical(clause.field, ctx)
    fields = issue.get("fields") or {}
    if kind in ("datetime", "date"):
        return _compare_time(clause, fields.get(field), kind, ctx)
    if clause.op in ORDERED_OPS or clause.op in ("~", "!~"):
        raise JqlError(
            f"The operator '{clause.op}' is not supported by the '{clause.field}' field."
        )
    if kind == "key":
        have = [str(issue.get("key", "")).lower(), str(issue.get("id", "")).lower()]
    elif kind == "category":
        category = (fields.get("status") or {}).get("statusCategory") or {}
        have = _names("key", "name")(category)
    else:
        have = (
            DISCRETE[field][1](fields.get(DISCRETE[field][0]))
            if field in DISCRETE
            else (_names("value", "name", "id")(fields.get(field)))
        )
    return _member(clause, have)


def _member(clause: Clause, have: Sequence[str]) -> bool:
    wanted = {v.lower() for v in clause.values if v is not None}
    if clause.op in ("is", "is not"):
        return (not have) == (clause.op == "is")
    if clause.op in ("=", "in"):
        return bool(wanted & set(have)) or (None in clause.values and not have)
    # != and NOT IN: Jira leaves out issues whose field is empty.
    return bool(have) and not (wanted & set(have))


def _compare_time(clause: Clause, raw: Any, kind: str, ctx: Context) -> bool:
    if clause.op in ("is", "is not"):
        return (raw in (None, "")) == (clause.op == "is")
    if raw in (None, ""):
        return False
    if clause.op in ("~", "!~"):
        raise JqlError(
            f"The operator '{clause.op}' is not supported by the '{clause.field}' field."
        )
    have: Any
    if kind == "date":
        have = dt.date.fromisoformat(str(raw)[:10])
        targets = [parse_time(v, ctx).date() for v in clause.values if v is not None]
    else:
        have = issue_time(raw)
        targets = [parse_time(v, ctx) for v in clause.values if v is not None]
    op = clause.op
    if op in ("=", "in"):
        return have in targets
    if op in ("!=", "not in"):
        return have not in targets
    target = targets[0]
    outcome: bool = {
        ">": have > target,
        ">=": have >= target,
        "<": have < target,
        "<=": have <= target,
    }[op]
    return outcome


def sort_issues(issues: list[dict[str, Any]], query: Query, ctx: Context) -> list[dict[str, Any]]:
    """Issues in the query's order (Jira's default when none: key descending)."""
    order = query.order or (("key", True),)
    result = sorted(issues, key=_key_order, reverse=True)
    for field, descending in reversed(order):
        if field.lower() == "rank":
            result.sort(key=lambda issue: int(issue.get("id") or 0), reverse=descending)
            continue
        try:
            kind, field_id = canonical(field, ctx)
        except JqlError:
            raise JqlError(f"Not able to sort using field '{field}'.") from None
        if kind == "key":
            result.sort(key=_key_order, reverse=descending)
        else:
            result.sort(key=lambda i: _sort_value(i, field_id), reverse=descending)
    return result


def _key_order(issue: Mapping[str, Any]) -> tuple[str, int]:
    project, _, number = str(issue.get("key", "")).rpartition("-")
    return project, int(number) if number.isdigit() else 0


def _sort_value(issue: Mapping[str, Any], field: str) -> tuple[int, str]:
    value = (issue.get("fields") or {}).get(field)
    if isinstance(value, Mapping):
        value = value.get("key") or value.get("name") or value.get("id")
    return (0, "") if value in (None, "") else (1, str(value))


def validate(query: Query, ctx: Context) -> None:
    """Raise JqlError for any field, operator or value the sandbox cannot answer exactly."""
    stack: list[Node] = [query.where] if query.where is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, BoolOp):
            stack.extend(node.parts)
        elif isinstance(node, Not):
            stack.append(node.part)
        else:
            kind, _ = canonical(node.field, ctx)
            if node.op in ("~", "!~") or (
                node.op in ORDERED_OPS and kind not in ("date", "datetime")
            ):
                raise JqlError(
                    f"The operator '{node.op}' is not supported by the '{node.field}' field."
                )
            if kind in ("date", "datetime"):
                for value in node.values:
                    if value is not None:
                        parse_time(value, ctx)
    sort_issues([], query, ctx)
