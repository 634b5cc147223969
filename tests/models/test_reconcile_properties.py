"""Properties the reconciler keeps for any input (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from models.event import EventStatus, LaunchEvent
from models.linking import VersionColumns, _columnar_phrases, _phrase_builder, _phrases, _words
from models.policy import Policy
from models.release import Release, ReleaseKind
from tests.factories import LA, TODAY, plan

days = st.integers(min_value=-120, max_value=240).map(lambda n: TODAY + dt.timedelta(days=n))
release_ids = st.sampled_from([str(n) for n in range(1, 9)])
types = st.sampled_from(["blog", "webinar", "email", "event", "default"])


@st.composite
def releases(draw: st.DrawFn) -> Release:
    rid = draw(release_ids)
    return Release(
        kind=ReleaseKind.VERSION,
        id=rid,
        key="PROJ",
        name=f"1.{rid}",
        project="PROJ",
        date=draw(st.none() | days),
        released=draw(st.booleans()),
        archived=draw(st.booleans()),
    )


@st.composite
def events(draw: st.DrawFn) -> LaunchEvent:
    start: dt.date | dt.datetime = draw(days)
    if draw(st.booleans()):
        start = dt.datetime.combine(start, dt.time(draw(st.integers(0, 23))), tzinfo=dt.UTC)
    return LaunchEvent(
        source="google",
        calendar_id="cal",
        id=draw(st.sampled_from("abcdefghij")),
        title=draw(st.sampled_from(["launch", "PROJ 1.3 blog", "[PROJ-4] post", "misc"])),
        start=start,
        status=draw(st.sampled_from(list(EventStatus))),
        properties={"jiraVersionId": draw(release_ids), "launchType": draw(types)}
        if draw(st.booleans())
        else {},
    )


policies = st.builds(
    Policy,
    notice_days=st.integers(0, 30),
    horizon_days=st.integers(0, 200),
    tolerance_days=st.integers(0, 3),
    unlinked_filter=st.sampled_from([None, "launch"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(releases(), max_size=8), st.lists(events(), max_size=10), policies, st.randoms())
def test_the_plan_does_not_depend_on_input_order(rs, es, policy, rnd) -> None:  # type: ignore[no-untyped-def]
    first = plan(rs, es, policy)
    rs2, es2 = list(rs), list(es)
    rnd.shuffle(rs2)
    rnd.shuffle(es2)
    assert plan(rs2, es2, policy) == first
    assert plan(rs, es, policy) == first


@settings(max_examples=150, deadline=None)
@given(releases(), types, policies, st.integers(0, 23))
def test_an_event_on_release_date_plus_offset_never_mismatches(release, kind, policy, hour) -> None:  # type: ignore[no-untyped-def]
    if release.date is None:
        return
    expected = release.date + dt.timedelta(days=policy.offset_days(kind))
    local = dt.datetime.combine(expected, dt.time(hour), tzinfo=LA)
    for start in (expected, local.astimezone(dt.UTC)):
        e = LaunchEvent(
            source="google",
            calendar_id="cal",
            id="x",
            title="t",
            start=start,
            properties={"jiraVersionId": release.id, "launchType": kind},
        )
        found = plan([release], [e], policy).divergences
        assert "date_mismatch" not in [d.kind.value for d in found]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(releases(), max_size=8),
    # Unique ids: dropping one of two copies of an event changes which copy counts.
    st.lists(events(), min_size=1, max_size=10, unique_by=lambda e: (e.calendar_id, e.id)),
    policies,
    st.data(),
)
def test_removing_an_event_never_removes_a_missing_event(rs, es, policy, data) -> None:  # type: ignore[no-untyped-def]
    def missing(p):  # type: ignore[no-untyped-def]
        return {d.identity for d in p.divergences if d.kind.value == "missing_event"}

    before = missing(plan(rs, es, policy))
    dropped = data.draw(st.integers(0, len(es) - 1))
    after = missing(plan(rs, es[:dropped] + es[dropped + 1 :], policy))
    assert before <= after


pieces = st.text(alphabet="AbZ9 .-,:!v[]{}", max_size=8)


@given(
    project=pieces.filter(lambda p: "{" not in p),
    version=pieces.filter(lambda v: "{" not in v),
    pattern=st.sampled_from(
        [
            "{project} {version}",
            "{version} of {project}",
            "{project}-{version}",
            "v{version} {project}",
        ]
    ),
)
@settings(max_examples=300, deadline=None)
def test_a_pattern_links_the_words_of_its_filled_title(
    project: str, version: str, pattern: str
) -> None:
    # The index splits patterns once for speed; it must agree with filling the pattern in.
    release = Release(kind=ReleaseKind.VERSION, id="1", key=project, name=version, project=project)
    filled = pattern.replace("{project}", project).replace("{version}", version)
    assert _phrase_builder(pattern)(release.project, release.name) == _words(filled)


@given(
    names=st.lists(st.tuples(pieces.filter(lambda p: "{" not in p), pieces), max_size=12),
    pattern=st.sampled_from(["{project} {version}", "{version} of {project}", "v {version}"]),
)
@settings(max_examples=300, deadline=None)
def test_the_columnar_index_agrees_with_the_per_version_loop(
    names: list[tuple[str, str]], pattern: str
) -> None:
    # The one-pattern fast path indexes a column at a time; it must link exactly as the loop.
    columns = VersionColumns()
    for i, (project, version) in enumerate(names):
        columns.add(
            Release(kind=ReleaseKind.VERSION, id=str(i), key=project, name=version, project=project)
        )
    columnar = _columnar_phrases(pattern, columns)
    if columnar is None:
        return  # not applicable: the loop is what runs
    phrases, sizes, firsts = _phrases([pattern], columns)
    assert (columnar[0], columnar[2]) == (phrases, firsts)
    assert columnar[1] >= sizes  # a superset of sizes costs lookups, never a wrong link


keywords = st.sampled_from(["blog", "webinar", "Live", "post", "email", "summit", "e-mail"])


@given(
    title=st.lists(keywords | st.text(alphabet="aeilvw -", max_size=6), max_size=5).map(" ".join),
    declared=st.sampled_from([None, "", "webinar", "Blog", "unknown"]),
    offsets=st.dictionaries(
        st.sampled_from(["blog", "webinar", "email", "default", "live"]), st.integers(-3, 3)
    ),
    event_types=st.dictionaries(
        st.sampled_from(["blog", "webinar", "email", "live"]),
        st.lists(keywords, max_size=3).map(tuple),
    ),
)
@settings(max_examples=300, deadline=None)
def test_the_fast_event_offset_is_the_offset_of_the_event_type(
    title: str,
    declared: str | None,
    offsets: dict[str, int],
    event_types: dict[str, tuple[str, ...]],
) -> None:
    # The reconciler skips typing events whose titles name no type with another offset.
    policy = Policy(offsets=offsets, event_types=event_types)
    properties = {} if declared is None else {"launchType": declared}
    event = LaunchEvent(
        source="google", calendar_id="c", id="e", title=title, start=TODAY, properties=properties
    )
    assert policy.event_offset(event) == policy.offset_days(policy.event_type(event))
