"""Which release a calendar event is about; the first rule that matches wins.

1. `jiraVersionId` / `jiraIssueKey` properties (Google extended properties, iCalendar X-JIRA-*).
2. A bracketed issue key of a known project in the title or description: `[PROJ-123]`.
3. A configured pattern such as `"{project} {version}"` found in the title.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from operator import itemgetter

from models.event import LaunchEvent
from models.policy import Policy
from models.release import Release, ReleaseKind

VERSION_PROPERTY = "jiraVersionId"
ISSUE_PROPERTY = "jiraIssueKey"
ISSUE_KEY = re.compile(r"\[([A-Z][A-Z0-9_]+)-(\d+)\]")
# A word keeps inner dots and dashes ("2.4.1", "v2-beta") but not edge punctuation ("2.4!").
WORD = re.compile(r"[^\s.,;:!?()\[\]{}\"']+(?:[.,:][^\s.,;:!?()\[\]{}\"']+)*")
MAX_PATTERN_WORDS = 12
MAX_SUBSTRING_WORDS = 500  # compiling the pre-test costs about 20 us a word
PLACEHOLDERS = ("{project}", "{version}")


class LinkRule(StrEnum):
    PROPERTY = "property"
    ISSUE_KEY = "issue_key"
    PATTERN = "pattern"


PROPERTY, BY_ISSUE_KEY, BY_PATTERN = LinkRule.PROPERTY, LinkRule.ISSUE_KEY, LinkRule.PATTERN
_VERSION = ReleaseKind.VERSION
_findall = WORD.findall


@dataclass(frozen=True, slots=True)
class Link:
    """An event names a release id, found by one rule."""

    release_id: str
    rule: LinkRule


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _phrase_builder(pattern: str) -> Callable[[str, str], list[str]]:
    """The words a pattern becomes for a version: `build(project, version_name)`.

    Whitespace always ends a word, so when each placeholder stands alone between spaces the
    words of the filled pattern are the words of its parts: literals are split once and
    projects once each, which keeps indexing 100,000 versions cheap.
    """
    parts = pattern.split()
    if _mixed(parts):
        return lambda project, name: _words(
            pattern.replace("{project}", project).replace("{version}", name)
        )
    project_words = lru_cache(maxsize=4096)(_words)
    steps = [_words(t) if t not in PLACEHOLDERS else t for t in parts]

    def build(project: str, name: str) -> list[str]:
        words: list[str] = []
        for step in steps:
            if step == "{project}":
                words += project_words(project)
            elif step == "{version}":
                words += _findall(name.lower())
            else:
                words += step
        return words

    return build


def _mixed(parts: list[str]) -> bool:
    """Whether a part mixes a placeholder with other text (`v{version}`)."""
    return not all(t in PLACEHOLDERS or not any(p in t for p in PLACEHOLDERS) for t in parts)


@dataclass(slots=True)
class VersionColumns:
    """The id, project and name of every version, one list each, in release order.

    Plain lists of strings: indexing them touches none of the (large, scattered) models.
    """

    ids: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def add(self, release: Release) -> None:
        """Append one version."""
        self.ids.append(release.id)
        self.projects.append(release.project)
        self.names.append(release.name)


Phrases = tuple[dict[str, str], set[int], set[str]]


def _phrases(patterns: Iterable[str], versions: VersionColumns) -> Phrases:
    """Phrase -> version id (the first version wins), phrase sizes and first words."""
    phrases: dict[str, str] = {}
    sizes: set[int] = set()
    firsts: set[str] = set()
    builders = [_phrase_builder(pattern) for pattern in patterns]
    for release_id, project, name in zip(
        versions.ids, versions.projects, versions.names, strict=True
    ):
        for build in builders:
            phrase = build(project, name)
            if 0 < len(phrase) <= MAX_PATTERN_WORDS:
                phrases.setdefault(" ".join(phrase), release_id)
                sizes.add(len(phrase))
                firsts.add(phrase[0])
    return phrases, sizes, firsts


def _columnar_phrases(pattern: str, versions: VersionColumns) -> Phrases | None:
    """What `_phrases` gives for one pattern, a column at a time with no Python loop per
    version (100,000s of them); None where that shortcut does not apply."""
    parts = pattern.split()
    if not versions.ids or not set(parts) >= set(PLACEHOLDERS) or _mixed(parts):
        return None
    columns: list[list[list[str]]] = []
    for part in parts:
        if part == "{project}":
            words_of = {project: _words(project) for project in set(versions.projects)}
            columns.append(list(map(words_of.__getitem__, versions.projects)))
        elif part == "{version}":
            columns.append(list(map(_findall, map(str.lower, versions.names))))
        else:
            columns.append([_words(part)] * len(versions.ids))
    joined = [list(map(" ".join, column)) for column in columns]
    if any("" in column for column in joined):
        return None  # a part without words: the per-version loop handles it exactly
    phrases = map(" ".join, zip(*joined, strict=True))
    # Reversed, so that as with setdefault the first version with a phrase keeps it.
    by_phrase = dict(zip(reversed(list(phrases)), reversed(versions.ids), strict=True))
    # Every sum of part sizes: a superset of the real phrase sizes costs only a few
    # lookups that miss, never a wrong link.
    sizes = {0}
    for column in columns:
        sizes = {s + n for s in sizes for n in set(map(len, column))}
    firsts = set(map(itemgetter(0), columns[0]))
    return by_phrase, {s for s in sizes if s <= MAX_PATTERN_WORDS}, firsts


def _substring_test(words: set[str]) -> Callable[[str], re.Match[str] | None] | None:
    """A search for any of `words` as a substring: a title without one names none of them.

    None when there are too many words for the regex to compile quickly.
    """
    if not words or len(words) > MAX_SUBSTRING_WORDS:
        return None
    longest_first = sorted(words, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, longest_first))).search


class LinkIndex:
    """Releases indexed so that linking one event costs a few dictionary lookups."""

    def __init__(self, releases: Iterable[Release], policy: Policy) -> None:
        projects: set[str] = set()
        versions = VersionColumns()
        for release in releases:
            projects.add(release.project)
            if release.kind is _VERSION:
                versions.add(release)
        self._build(projects, versions, policy)

    @classmethod
    def of_columns(cls, projects: set[str], versions: VersionColumns, policy: Policy) -> LinkIndex:
        """An index of what a caller already gathered in its own pass over the releases."""
        index = cls.__new__(cls)
        index._build(projects, versions, policy)
        return index

    def _build(self, projects: set[str], versions: VersionColumns, policy: Policy) -> None:
        self.projects = {project.upper() for project in projects}
        patterns = policy.link_patterns
        columnar = _columnar_phrases(patterns[0], versions) if len(patterns) == 1 else None
        self.phrases, sizes, firsts = columnar or _phrases(patterns, versions)
        self.phrase_sizes, self.first_words = sizes, firsts
        # Longest phrase first, so "PROJ 2.4.1" is not taken for "PROJ 2.4".
        self.longest_first = sorted(sizes, reverse=True)
        self.might_name = _substring_test(firsts)

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
        lowered = title.lower()
        # One C-level scan rules out most titles before they are split into words.
        if self.might_name is not None and self.might_name(lowered) is None:
            return None
        words = _findall(lowered)
        if self.first_words.isdisjoint(words):
            return None
        return self._link_by_pattern(words)

    def _link_by_pattern(self, words: list[str]) -> Link | None:
        # Only where a phrase could begin (usually the project key) are lookups worth it.
        firsts, phrase_of = self.first_words, self.phrases.get
        starts = [i for i, word in enumerate(words) if word in firsts]
        for size in self.longest_first:
            for start in starts:
                release_id = phrase_of(" ".join(words[start : start + size]))
                if release_id is not None:
                    return Link(release_id, BY_PATTERN)
        return None
