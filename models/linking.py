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
from itertools import compress
from operator import attrgetter, itemgetter

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
_VERSION, _KIND, _PROJECT = ReleaseKind.VERSION, attrgetter("kind"), attrgetter("project")
_NAME, _ID = attrgetter("name"), attrgetter("id")
_findall = WORD.findall


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
    if _mixed(parts):
        return lambda r: _words(
            pattern.replace("{project}", r.project).replace("{version}", r.name)
        )
    project_words = lru_cache(maxsize=4096)(_words)
    findall = WORD.findall
    if parts == ["{project}", "{version}"]:  # the default pattern: one call per version
        return lambda r: project_words(r.project) + findall(r.name.lower())
    steps = [_words(t) if t not in PLACEHOLDERS else t for t in parts]

    def build(release: Release) -> list[str]:
        words: list[str] = []
        for step in steps:
            if step == "{project}":
                words += project_words(release.project)
            elif step == "{version}":
                words += findall(release.name.lower())
            else:
                words += step
        return words

    return build


def _substring_test(words: set[str]) -> Callable[[str], re.Match[str] | None] | None:
    """A search for any of `words` as a substring: a title without one names none of them.

    None when there are too many words for the regex to compile quickly.
    """
    if not words or len(words) > MAX_SUBSTRING_WORDS:
        return None
    longest_first = sorted(words, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, longest_first))).search


def _phrases(
    patterns: Iterable[str], versions: Iterable[Release]
) -> tuple[dict[str, str], set[int], set[str]]:
    """Phrase -> version id (the first version wins), phrase sizes and first words."""
    phrases: dict[str, str] = {}
    sizes: set[int] = set()
    firsts: set[str] = set()
    builders = [_phrase_builder(pattern) for pattern in patterns]
    for release in versions:
        for build in builders:
            phrase = build(release)
            if 0 < len(phrase) <= MAX_PATTERN_WORDS:
                phrases.setdefault(" ".join(phrase), release.id)
                sizes.add(len(phrase))
                firsts.add(phrase[0])
    return phrases, sizes, firsts


def _columnar_phrases(
    pattern: str, versions: list[Release]
) -> tuple[dict[str, str], set[int], set[str]] | None:
    """What `_phrases` gives for one pattern, a column at a time with no Python loop per
    version (100,000s of them); None where that shortcut does not apply."""
    parts = pattern.split()
    if not versions or not set(parts) >= set(PLACEHOLDERS) or _mixed(parts):
        return None
    columns: list[list[list[str]]] = []
    for part in parts:
        if part == "{project}":
            projects = list(map(_PROJECT, versions))
            words_of = {project: _words(project) for project in set(projects)}
            columns.append(list(map(words_of.__getitem__, projects)))
        elif part == "{version}":
            columns.append(list(map(_findall, map(str.lower, map(_NAME, versions)))))
        else:
            columns.append([_words(part)] * len(versions))
    joined = [list(map(" ".join, column)) for column in columns]
    if any("" in column for column in joined):
        return None  # a part without words: the per-version loop handles it exactly
    phrases = list(map(" ".join, zip(*joined, strict=True)))
    ids = list(map(_ID, versions))
    # Reversed, so that as with setdefault the first version with a phrase keeps it.
    by_phrase = dict(zip(reversed(phrases), reversed(ids), strict=True))
    # Every sum of part sizes: a superset of the real phrase sizes costs only a few
    # lookups that miss, never a wrong link.
    sizes = {0}
    for column in columns:
        sizes = {s + n for s in sizes for n in set(map(len, column))}
    firsts = set(map(itemgetter(0), columns[0]))
    return by_phrase, {s for s in sizes if s <= MAX_PATTERN_WORDS}, firsts


def _mixed(parts: list[str]) -> bool:
    """Whether a part mixes a placeholder with other text (`v{version}`)."""
    return not all(t in PLACEHOLDERS or not any(p in t for p in PLACEHOLDERS) for t in parts)


class LinkIndex:
    """Releases indexed so that linking one event costs a few dictionary lookups."""

    def __init__(self, releases: Iterable[Release], policy: Policy) -> None:
        listed = list(releases)
        self.projects: set[str] = set(map(str.upper, map(_PROJECT, listed)))
        versions = list(compress(listed, map(_VERSION.__eq__, map(_KIND, listed))))
        patterns = policy.link_patterns
        columnar = _columnar_phrases(patterns[0], versions) if len(patterns) == 1 else None
        if columnar is not None:
            self.phrases, sizes, firsts = columnar
        else:
            self.phrases, sizes, firsts = _phrases(patterns, versions)
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
