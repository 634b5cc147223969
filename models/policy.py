"""The launch policy: offsets per event type, windows, tolerance and linking patterns."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.event import LaunchEvent

DEFAULT_OFFSETS: dict[str, int] = {"blog": 0, "email": 0, "event": 0, "webinar": 7, "default": 0}
DEFAULT_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "webinar": ("webinar", "livestream"),
    "blog": ("blog", "post", "announcement"),
    "email": ("email", "newsletter", "mailer"),
    "event": ("event", "conference", "summit", "meetup", "keynote"),
}
TYPE_PROPERTY = "launchType"
MAX_OFFSET_DAYS = 3650
PLACEHOLDERS = ("{project}", "{version}")
WORD = re.compile(r"[a-z]+")
MAX_PRETEST_KEYWORDS = 500  # compiling the pre-test costs about 20 us a keyword


class Policy(BaseModel):
    """When a launch is where it should be, and how loudly to say when it is not."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    notice_days: int = Field(14, ge=0, le=3650)
    """A date within this many days of today makes a divergence critical."""
    horizon_days: int = Field(90, ge=0, le=3650)
    """Releases further out need no launch event yet."""
    tolerance_days: int = Field(0, ge=0, le=365)
    """Differences up to this many days are not divergences."""
    offsets: Mapping[str, int] = Field(default_factory=lambda: dict(DEFAULT_OFFSETS))
    """Days after the release date each event type should happen."""
    event_types: Mapping[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_EVENT_TYPES)
    )
    """Title keywords that give an event its type (else its `launchType` property)."""
    link_patterns: tuple[str, ...] = ("{project} {version}",)
    """Title patterns linking an event to a version."""
    unlinked_filter: str | None = None
    """Regex: unlinked events whose title matches are orphans."""

    @field_validator("offsets")
    @classmethod
    def _offsets_in_range(cls, offsets: Mapping[str, int]) -> Mapping[str, int]:
        # Fuzz-found: an offset of a billion days crashed every plan with OverflowError.
        for event_type, days in offsets.items():
            if not -MAX_OFFSET_DAYS <= days <= MAX_OFFSET_DAYS:
                raise ValueError(
                    f"{event_type!r}: {days} days is out of range; use -{MAX_OFFSET_DAYS} "
                    f"to {MAX_OFFSET_DAYS}"
                )
        return offsets

    @field_validator("link_patterns")
    @classmethod
    def _patterns_have_placeholders(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            if not all(p in pattern for p in PLACEHOLDERS):
                raise ValueError(f"pattern {pattern!r} needs both {{project}} and {{version}}")
        return patterns

    @field_validator("unlinked_filter")
    @classmethod
    def _filter_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from exc
        return value

    def event_type(self, event: LaunchEvent) -> str:
        """The event's type: its `launchType` property, else the first type with a keyword
        in its title (in the order event_types lists them)."""
        declared = event.properties.get(TYPE_PROPERTY)
        if declared:
            return declared.lower()
        ranks = self._keyword_ranks
        found = [ranks[w] for w in WORD.findall(event.title.lower()) if w in ranks]
        return self._type_names[min(found)] if found else "default"

    @cached_property
    def _keyword_ranks(self) -> dict[str, int]:
        ranks: dict[str, int] = {}
        for rank, keywords in enumerate(self.event_types.values()):
            for keyword in keywords:
                ranks.setdefault(keyword.lower(), rank)
        return ranks

    @cached_property
    def _type_names(self) -> list[str]:
        return list(self.event_types)

    def offset_days(self, event_type: str) -> int:
        """Days after the release date that an event of this type should happen."""
        return self.offsets.get(event_type, self.offsets.get("default", 0))

    def event_offset(self, event: LaunchEvent) -> int:
        """`offset_days(event_type(event))`, without typing the event when no keyword of a
        type with another offset than the default's appears in its title (most events)."""
        if not event.properties.get(TYPE_PROPERTY):
            other_offset = self._other_offset_keyword
            if other_offset is not None and other_offset(event.title.lower()) is None:
                return self._default_offset
        return self.offset_days(self.event_type(event))

    @cached_property
    def _default_offset(self) -> int:
        return self.offset_days("default")

    @cached_property
    def _other_offset_keyword(self) -> Callable[[str], re.Match[str] | None] | None:
        """A substring search for the keywords whose type's offset is not the default's
        (a superset of the word test `event_type` makes); None when there are too many."""
        keywords = {
            keyword.lower()
            for event_type, type_keywords in self.event_types.items()
            if self.offset_days(event_type) != self._default_offset
            for keyword in type_keywords
        }
        if len(keywords) > MAX_PRETEST_KEYWORDS:
            return None
        if not keywords:
            return lambda title: None
        return re.compile("|".join(map(re.escape, sorted(keywords)))).search
