"""Hostile JSON, text, dates and zones that real exports and API answers can contain."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Kept small: tests/fuzz as a whole must stay well under a minute on two shared cores.
# LAUNCHSYNC_FUZZ_EXAMPLES=2000 digs deeper (a nightly run, or after touching a translator).
EXAMPLES = int(os.environ.get("LAUNCHSYNC_FUZZ_EXAMPLES", "60"))
# CI replays the same examples on every run, so a red CI is always a reproducible bug
# (and never one found by chance on the one run that decides whether work lands).
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=bool(os.environ.get("CI")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW_FUZZ = settings(FUZZ, max_examples=max(4, EXAMPLES // 8))

HUGE = "x" * 20_000  # 50 screens of text; bigger only slows the run
NASTY_SAMPLES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",  # RTL override
    "مرحبا بالعالم",
    "🚀🔥👩‍💻",
    "\ud800",  # a lone surrogate: JSON's \ud800 escape is legal
    "\udfff tail",
    "line one\nline two",
    "tab\there\r\n",
    "' OR 1=1 --",
    '" OR project = "OTHER',
    "${JIRA_API_TOKEN}",
    HUGE,
]

# Any character, surrogates included (hypothesis leaves category Cs out by default).
any_char = st.characters(blacklist_categories=())
nasty_text = st.sampled_from(NASTY_SAMPLES) | st.text(any_char, max_size=40)

ABSURD_DATES = [
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "2026-1-5",
    "26-03-01",
    "tomorrow",
    "2026/03/01",
    "2026-03-01T25:00:00Z",
    "2026-03-01T10:00:00+25:00",
    "2026-03-01T10:00:00 PST",
    "2026-03-01T10:00:00Zulu",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59",
    "9999-12-30",
    "-2026-03-01",
    "+275760-09-13",
    "2026-03-01\x00",
]
BAD_ZONES = [
    "",
    "Mars/Olympus_Mons",
    "../../etc/passwd",
    "UTC\x00",
    "+05:00",
    "America/Los Angeles",
    "a" * 300,
    "\ud800",
    "🚀",
]

# Well-formed dates and date-times anywhere in years 1..9999, with and without offsets.
iso_moments = st.dates().map(str) | st.datetimes(
    timezones=st.none() | st.timezones(), allow_imaginary=False
).map(lambda moment: moment.isoformat())
dates = st.sampled_from(ABSURD_DATES) | iso_moments | nasty_text
zones = st.sampled_from(BAD_ZONES) | st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kathmandu"])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | nasty_text
    | dates
)
# Any JSON value, nested a little: what a field can hold in a hand-edited export.
junk: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def mutated(
    draw: st.DrawFn, base: Mapping[str, Any], fields: Mapping[str, st.SearchStrategy[Any]]
) -> Any:
    """`base` with some fields deleted or replaced by hostile values (or not an object)."""
    if draw(st.integers(0, 19)) == 0:
        return draw(junk.filter(lambda v: not isinstance(v, dict)))
    item = dict(base)
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3, unique=True))
    for key in chosen:
        if draw(st.booleans()):
            item.pop(key, None)
        else:
            item[key] = draw(fields[key] | junk)
    return item
