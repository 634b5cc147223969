"""Which release a calendar event is about; the first rule that matches wins.

1. `jiraVersionId` / `jiraIssueKey` properties (Google extended properties, iCalendar X-JIRA-*).
2. A bracketed issue key of a known project in the title or description: `[PROJ-123]`.
3. A configured pattern such as `"{project} {version}"` found in the title.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from models.event import LaunchEvent
from models.policy import Policy
from models.release import Release, ReleaseKind

VERSION_PROPERTY = "jiraVersionId"
ISSUE_PROPERTY = "jiraIssueKey"
ISSUE_KEY = re.compile(r"\[([A-Z][A-Z0-9_]+)-(\d+)\]")
# A word keeps inner dots and dashes ("2.4.1", "v2-beta") but not edge punctuation ("2.4!").
WORD = re.compile(r"[^\s.,;:!?()\[\]{}\"']+(?:[.,:][^\s.,;:!?()\[\]{}\"']+)*")
MAX_PATTERN_WORDS = 12
PLACEHOLDERS = ("{project}", "{version}")


class LinkRule(StrEnum):
    PROPERTY = "property"
    ISSUE_KEY = "issue_key"
    PATTERN = "pattern"


PROPERTY, BY_ISSUE_KEY, BY_PATTERN = LinkRule.PROPERTY, LinkRule.ISSUE_KEY, LinkRule.PATTERN


@dataclass(frozen=True, slots=True)
class Link:
    """An event names a release id, found by one rule."""

    release_id: str
    rule: LinkRule


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _phrase_builder(pattern: str) -> Callable[[Release], list[str]]:
    """The words a pattern becomes for a release.

    Whitespace always ends a word, so when each placeholder stands alone between spaces the
    words of the filled pattern are the words of its parts: literals are split once and
    projects once each, which keeps indexing 100,000 versions cheap.
    """
    parts = pattern.split()
    if not all(t in PLACEHOLDERS or not any(p in t for p in PLACEHOLDERS) for t in parts):
        return lambda r: _words(
            pattern.replace("{project}", r.project).replace("{version}", r.name)
        )
    literal = {t: _words(t) for t in parts if t not in PLACEHOLDERS}
    project_words = lru_cache(maxsize=4096)(_words)

    def build(release: Release) -> list[str]:
        words: list[str] = []
        for part in parts:
            if part == "{project}":
                words += project_words(release.project)
            elif part == "{version}":
                words += _words(release.name)
            else:
                words += literal[part]
        return words

    return build


class LinkIndex:
    """Releases indexed so that linking one event costs a few dictionary lookups."""

    def __init__(self, releases: Iterable[Release], policy: Policy) -> None:
        self.projects: set[str] = set()
        self.phrases: dict[str, str] = {}
        self.phrase_sizes: set[int] = set()
        self.first_words: set[str] = set()
        builders = [_phrase_builder(pattern) for pattern in policy.link_patterns]
        for release in releases:
            self.projects.add(release.project.upper())
            if release.kind is ReleaseKind.VERSION:
                for build in builders:
                    self._index(build(release), release.id)

    def _index(self, phrase: list[str], release_id: str) -> None:
        if 0 < len(phrase) <= MAX_PATTERN_WORDS:
            self.phrases.setdefault(" ".join(phrase), release_id)
            self.phrase_sizes.add(len(phrase))
            self.first_words.add(phrase[0])

    def link(self, event: LaunchEvent) -> Link | None:
        """The release this event is about, or None."""
        properties = event.properties
        if properties:
            named = properties.get(VERSION_PROPERTY) or properties.get(ISSUE_PROPERTY)
            if named and named.strip():
                return Link(named.strip(), PROPERTY)
        title = event.title
        # Cheap tests first: most titles carry no issue key. (Hot path: 100,000s of events.)
        if "[" in title or "[" in event.description:
            for text in (title, event.description):
                for project, number in ISSUE_KEY.findall(text):
                    if project in self.projects:
                        return Link(f"{project}-{number}", BY_ISSUE_KEY)
        if not self.phrases:
            return None
        words = WORD.findall(title.lower())
        if self.first_words.isdisjoint(words):
            return None
        return self._link_by_pattern(words)

    def _link_by_pattern(self, words: list[str]) -> Link | None:
        # Only where a phrase could begin (usually the project key) are lookups worth it.
        starts = [i for i, word in enumerate(words) if word in self.first_words]
        # Longest phrase first, so "PROJ 2.4.1" is not taken for "PROJ 2.4".
        for size in sorted(self.phrase_sizes, reverse=True):
            for start in starts:
                release_id = self.phrases.get(" ".join(words[start : start + size]))
                if release_id is not None:
                    return Link(release_id, BY_PATTERN)
        return None
