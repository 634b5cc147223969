"""What the reconciler finds (divergences) and what should be done about it (actions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from models.event import LaunchEvent
from models.freshness import Blindness
from models.release import Release


class DivergenceKind(StrEnum):
    DATE_MISMATCH = "date_mismatch"
    MISSING_EVENT = "missing_event"
    ORPHAN_EVENT = "orphan_event"
    RELEASE_UNSCHEDULED = "release_unscheduled"
    OVERDUE_RELEASE = "overdue_release"


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the most urgent; sorts plans."""
        return SEVERITY_ORDER.index(self)


SEVERITY_ORDER = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)


class Divergence(BaseModel):
    """One place where engineering and marketing dates disagree."""

    model_config = ConfigDict(frozen=True)

    kind: DivergenceKind
    severity: Severity
    release: Release | None
    event: LaunchEvent | None
    event_date: dt.date | None = None  # the event's day in the business time zone
    delta_days: int | None
    message: str
    linked_release_id: str | None = None

    @cached_property
    def identity(self) -> str:
        """Stable across runs: tickets and alerts are keyed on it (computed once: plans sort
        by it and acting looks it up per side effect)."""
        release_id = self.release.id if self.release else self.linked_release_id or "-"
        event = f"{self.event.calendar_id}/{self.event.id}" if self.event else "-"
        # join takes the StrEnum's text directly; `.value` is a slow descriptor (hot in sorts).
        return "|".join((self.kind, release_id, event))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; its identity is worked out again from its own fields."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("identity", None)
        return copied

    @property
    def fingerprint(self) -> str:
        """Changes exactly when a person would want to hear again about this divergence."""
        release_date = self.release.date if self.release else None
        return f"{release_date}|{self.event_date}|{self.delta_days}|" + self.severity

    @property
    def sort_date(self) -> dt.date:
        """The date a reader scans by: the release's, else the event's."""
        if self.release and self.release.date:
            return self.release.date
        return self.event_date or dt.date.max

    def to_json(self) -> dict[str, Any]:
        """The plan JSON shape of contract 2 (plus the identity other tools key on)."""
        return {
            "identity": self.identity,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "release": {
                "source": self.release.source,
                "id": self.release.id,
                "key": self.release.key,
                "name": self.release.name,
                "date": _iso(self.release.date),
            }
            if self.release
            else None,
            "event": {
                "source": self.event.source,
                "calendar_id": self.event.calendar_id,
                "id": self.event.id,
                "title": self.event.title,
                "date": _iso(self.event_date),
            }
            if self.event
            else None,
            "delta_days": self.delta_days,
            "message": self.message,
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class ActionKind(StrEnum):
    OPEN_TICKET = "open_ticket"
    COMMENT_TICKET = "comment_ticket"
    RESOLVE_TICKET = "resolve_ticket"
    ALERT = "alert"


class Urgency(StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"


class Action(BaseModel):
    """One side effect the plan asks for, keyed on a divergence identity."""

    model_config = ConfigDict(frozen=True)

    kind: ActionKind
    identity: str
    summary: str
    ticket: str | None = None
    urgency: Urgency | None = None

    def to_json(self) -> dict[str, Any]:
        """Plan JSON shape of an action."""
        return self.model_dump(mode="json", exclude_none=True)


class ItemProblem(BaseModel):
    """An item that could not be read; it is left out and the rest still plans."""

    model_config = ConfigDict(frozen=True)

    item: str
    error: str


class Plan(BaseModel):
    """Divergences sorted by severity then date, and the actions that follow from them."""

    model_config = ConfigDict(frozen=True)

    generated_at: dt.datetime
    today: dt.date
    divergences: tuple[Divergence, ...]
    actions: tuple[Action, ...] = ()
    problems: tuple[ItemProblem, ...] = ()
    blind: tuple[Blindness, ...] = ()

    @property
    def status(self) -> str:
        """`current`, or `unknown` while launchsync is blind to a source."""
        return "unknown" if self.blind else "current"

    def to_json(self) -> dict[str, Any]:
        """Contract 2: `{"generated_at", "divergences", "actions"}` (+ `today`, `problems`,
        `status` and `blind`: why launches are unknown)."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "today": self.today.isoformat(),
            "status": self.status,
            "blind": [b.to_json() for b in self.blind],
            "divergences": [d.to_json() for d in self.divergences],
            "actions": [a.to_json() for a in self.actions],
            "problems": [p.model_dump(mode="json") for p in self.problems],
        }

    def count(self, severity: Severity) -> int:
        """How many divergences have this severity."""
        return sum(1 for d in self.divergences if d.severity is severity)
