"""Launch events: what marketing plans on its calendars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EventStatus(StrEnum):
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


_CANCELLED = EventStatus.CANCELLED  # bound once: Enum attribute lookups are slow in loops


class LaunchEvent(BaseModel):
    """A calendar event as the vendor gave it; the reconciler decides its date.

    `start` is a `date` for all-day events (and `end` is then exclusive), or a datetime.
    A naive datetime is "floating" and read in `timezone` (or the business zone).
    """

    model_config = ConfigDict(frozen=True)

    source: str
    calendar_id: str
    id: str
    title: str = ""
    description: str = ""
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date | None = None
    timezone: str | None = None
    status: EventStatus = EventStatus.CONFIRMED
    properties: Mapping[str, str] = Field(default_factory=dict)
    organizer: str | None = None
    url: str | None = None
    updated: dt.datetime | None = None
    etag: str | None = None  # Google's version tag: write-back never goes over a newer edit

    @model_validator(mode="after")
    def _end_not_before_start(self) -> LaunchEvent:
        if self.end is not None and type(self.end) is not type(self.start):
            raise ValueError("start and end must both be dates or both be date-times")
        if self.end is not None and self.end < self.start:  # type: ignore[operator]
            raise ValueError("end is before start")
        return self

    @property
    def all_day(self) -> bool:
        """True for an all-day event (a `start.date` in Google's terms)."""
        return not isinstance(self.start, dt.datetime)

    @property
    def live(self) -> bool:
        """Cancelled events count for nothing."""
        return self.status is not _CANCELLED

    @property
    def ref(self) -> str:
        """A stable handle unique across calendars."""
        return f"{self.calendar_id}/{self.id}"
