"""The divergence table, row by row, with the date rules that decide it."""

from __future__ import annotations

import datetime as dt

from models.event import EventStatus
from models.plan import ActionKind, Severity
from models.policy import Policy
from models.reconcile import KnownDivergence
from tests.factories import LA, day, event, issue, kinds, plan, version


def test_an_event_on_the_release_date_is_in_step() -> None:
    release = version(date=day(30))
    assert plan([release], [event(day(30), links=release)]).divergences == ()


def test_a_blog_a_week_before_the_release_is_a_critical_date_mismatch() -> None:
    release = version(date=day(30))
    (d,) = plan([release], [event(day(23), links=release, kind="blog")]).divergences
    assert (d.kind.value, d.delta_days, d.severity) == ("date_mismatch", -7, Severity.CRITICAL)
    assert "before the release" in d.message


def test_a_late_launch_outside_the_notice_window_is_a_warning() -> None:
    release = version(date=day(40))
    (d,) = plan([release], [event(day(43), links=release)]).divergences
    assert (d.delta_days, d.severity) == (3, Severity.WARNING)


def test_a_late_launch_inside_the_notice_window_is_critical() -> None:
    release = version(date=day(5))
    (d,) = plan([release], [event(day(8), links=release)]).divergences
    assert d.severity is Severity.CRITICAL


def test_a_webinar_is_expected_a_week_after_the_release() -> None:
    release = version(date=day(30))
    on_time = event(day(37), links=release, title="Launch webinar")
    assert plan([release], [on_time]).divergences == ()
    (d,) = plan([release], [event(day(30), links=release, kind="webinar")]).divergences
    assert d.delta_days == -7


def test_tolerance_absorbs_small_differences() -> None:
    release = version(date=day(30))
    loose = Policy(tolerance_days=2)
    assert plan([release], [event(day(32), links=release)], loose).divergences == ()
    assert kinds(plan([release], [event(day(33), links=release)], loose)) == ["date_mismatch"]


def test_an_upcoming_release_without_an_event_is_missing_one() -> None:
    (d,) = plan([version(date=day(30))], []).divergences
    assert (d.kind.value, d.severity, d.delta_days) == ("missing_event", Severity.WARNING, None)


def test_releases_beyond_the_horizon_need_no_event_yet() -> None:
    assert plan([version(date=day(91))], []).divergences == ()
    assert kinds(plan([version(date=day(90))], [])) == ["missing_event"]


def test_released_archived_and_undated_versions_need_no_event() -> None:
    releases = [
        version(date=day(10), released=True),
        version(date=day(10), archived=True),
        version(date=None),
    ]
    assert plan(releases, []).divergences == ()


def test_a_cancelled_event_does_not_count_as_the_launch() -> None:
    release = version(date=day(30))
    cancelled = event(day(30), links=release, status=EventStatus.CANCELLED)
    assert kinds(plan([release], [cancelled])) == ["missing_event"]


def test_a_cancelled_event_for_a_missing_release_is_not_an_orphan() -> None:
    gone = event(day(30), properties={"jiraVersionId": "424242"}, status=EventStatus.CANCELLED)
    assert plan([], [gone]).divergences == ()


def test_an_event_linked_to_an_unknown_release_is_an_orphan() -> None:
    (d,) = plan([], [event(day(30), properties={"jiraVersionId": "424242"})]).divergences
    assert (d.kind.value, d.release, d.linked_release_id) == ("orphan_event", None, "424242")
    assert "424242" in d.message and "does not exist" in d.message


def test_an_event_linked_to_an_archived_release_is_an_orphan() -> None:
    release = version(date=day(30), archived=True)
    (d,) = plan([release], [event(day(30), links=release)]).divergences
    assert d.kind.value == "orphan_event" and d.release is not None


def test_an_event_for_a_release_without_a_date_means_it_is_unscheduled() -> None:
    release = version(date=None)
    (d,) = plan([release], [event(day(30), links=release)]).divergences
    assert (d.kind.value, d.delta_days) == ("release_unscheduled", None)


def test_an_unreleased_version_past_its_date_is_overdue() -> None:
    (d,) = plan([version(date=day(-3))], []).divergences
    assert (d.kind.value, d.delta_days, d.severity) == ("overdue_release", 3, Severity.CRITICAL)


def test_long_overdue_is_a_warning_and_released_is_not_overdue() -> None:
    (d,) = plan([version(date=day(-40)), version(date=day(-3), released=True)], []).divergences
    assert (d.delta_days, d.severity) == (40, Severity.WARNING)


def test_far_future_findings_are_informational() -> None:
    release = version(date=day(200))
    (d,) = plan([release], [event(day(203), links=release)]).divergences
    assert d.severity is Severity.INFO


def test_unlinked_events_are_ignored_unless_they_match_the_filter() -> None:
    loose = event(day(30), title="Spring launch roundup")
    assert plan([], [loose]).divergences == ()
    (d,) = plan([], [loose], Policy(unlinked_filter=r"\blaunch\b")).divergences
    assert d.kind.value == "orphan_event" and "not linked" in d.message


# Linking rules


def test_a_link_property_wins_over_a_key_in_the_title() -> None:
    by_property, by_title = version(date=day(30)), issue("PROJ-9", date=day(60))
    e = event(day(30), links=by_property, title="[PROJ-9] launch")
    assert plan([by_property, by_title], [e]).divergences[0].kind.value == "missing_event"


def test_an_issue_key_in_brackets_links_the_event() -> None:
    release = issue("PROJ-7", date=day(30))
    (d,) = plan([release], [event(day(33), title="Blog: [PROJ-7] SSO is here")]).divergences
    assert (d.kind.value, d.release and d.release.id) == ("date_mismatch", "PROJ-7")


def test_an_issue_key_in_the_description_links_the_event() -> None:
    release = issue("PROJ-7", date=day(30))
    e = event(day(30), title="SSO blog", description="Tracks [PROJ-7].")
    assert plan([release], [e]).divergences == ()


def test_keys_of_unknown_projects_do_not_link() -> None:
    e = event(day(30), title="[OTHER-1] launch")
    assert plan([version(date=None)], [e]).divergences == ()


def test_the_pattern_links_project_and_version_in_the_title() -> None:
    release = version("2.4", date=day(30))
    (d,) = plan([release], [event(day(31), title="PROJ 2.4 launch!")]).divergences
    assert d.release is not None and d.release.id == release.id


def test_the_longest_pattern_match_wins() -> None:
    v24, v241 = version("2.4", date=day(30)), version("2.4.1", date=day(50))
    e = event(day(50), title="PROJ 2.4.1 patch notes")
    assert kinds(plan([v24, v241], [e])) == ["missing_event"]  # 2.4 only; 2.4.1 is covered


def test_a_custom_pattern_links_by_its_own_words() -> None:
    release = version("2.4", date=day(30))
    policy = Policy(link_patterns=("{project} release {version}",))
    blog = event(day(30), title="proj release 2.4 blog")
    assert plan([release], [blog], policy).divergences == ()


# Date rules


def test_a_late_evening_event_counts_on_its_business_zone_day() -> None:
    release = version(date=day(30))
    evening = dt.datetime.combine(day(30), dt.time(21, 30), tzinfo=LA)
    utc = evening.astimezone(dt.UTC)
    assert utc.date() == day(31)  # a naive UTC comparison would call this a day late
    assert plan([release], [event(utc, links=release)]).divergences == ()


def test_a_floating_time_is_read_in_the_event_zone() -> None:
    release = version(date=day(30))
    tokyo_morning = dt.datetime.combine(day(31), dt.time(9, 0))  # 16:00 the day before in LA
    e = event(tokyo_morning, links=release, timezone="Asia/Tokyo")
    assert plan([release], [e]).divergences == ()


def test_an_all_day_event_uses_its_start_date_and_its_end_is_exclusive() -> None:
    from models.dates import event_last_day

    release = version(date=day(30))
    e = event(day(30), links=release, end=day(31))
    assert plan([release], [e]).divergences == ()
    assert event_last_day(e, LA) == day(30)


def test_a_dst_change_does_not_move_an_event_across_midnight() -> None:
    spring = dt.date(2027, 3, 14)  # clocks jump 02:00 -> 03:00 in Los Angeles
    release = version(date=spring)
    just_before_midnight = dt.datetime(2027, 3, 14, 23, 59, tzinfo=LA).astimezone(dt.UTC)
    fall_back = dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=LA).astimezone(dt.UTC)
    autumn = version(date=dt.date(2026, 11, 1))
    p = plan(
        [release, autumn],
        [event(just_before_midnight, links=release), event(fall_back, links=autumn)],
        today=dt.date(2026, 10, 1),
    )
    assert p.divergences == ()


def test_issues_with_a_custom_date_field_are_releases() -> None:
    release = issue("PROJ-12", date=day(20))
    assert kinds(plan([release], [])) == ["missing_event"]


# Ordering, identity and actions


def test_the_plan_is_sorted_by_severity_then_date() -> None:
    later, sooner = version(date=day(60)), version(date=day(30))
    urgent = version(date=day(-2))
    p = plan([later, sooner, urgent], [])
    assert [d.release and d.release.date for d in p.divergences] == [day(-2), day(30), day(60)]


def test_identity_is_stable_across_runs_and_names_release_and_event() -> None:
    release = version(date=day(30))
    e = event(day(23), links=release)
    first = plan([release], [e]).divergences[0]
    moved = plan([release.model_copy(update={"date": day(31)})], [e]).divergences[0]
    assert first.identity == moved.identity == f"date_mismatch|{release.id}|marketing/{e.id}"
    assert first.fingerprint != moved.fingerprint


def test_a_copy_of_a_divergence_about_another_release_has_that_release_in_its_identity() -> None:
    release, other = version(date=day(30)), version(id="20001", date=day(30))
    found = plan([release], [event(day(23), links=release)]).divergences[0]
    assert found.identity.startswith(f"date_mismatch|{release.id}|")  # computed, then kept
    copied = found.model_copy(update={"release": other})
    assert copied.identity.startswith(f"date_mismatch|{other.id}|")
    assert found.model_copy() == found


def test_new_divergences_open_a_ticket_and_alert() -> None:
    p = plan([version(date=day(5))], [])
    assert [a.kind for a in p.actions] == [ActionKind.OPEN_TICKET, ActionKind.ALERT]
    assert p.actions[1].urgency and p.actions[1].urgency.value == "immediate"


def test_a_changed_divergence_comments_and_alerts_again_and_an_unchanged_one_is_quiet() -> None:
    release = version(date=day(30))
    e = event(day(23), links=release)
    (d,) = plan([release], [e]).divergences
    same = {d.identity: KnownDivergence(d.identity, d.fingerprint, "PROJ-1")}
    assert plan([release], [e], previous=same).actions == ()
    stale = {d.identity: KnownDivergence(d.identity, "old", "PROJ-1")}
    actions = plan([release], [e], previous=stale).actions
    assert [(a.kind, a.ticket) for a in actions] == [
        (ActionKind.COMMENT_TICKET, "PROJ-1"),
        (ActionKind.ALERT, None),
    ]


def test_a_divergence_that_disappears_resolves_its_ticket() -> None:
    known = {"missing_event|1|-": KnownDivergence("missing_event|1|-", "x", "PROJ-3")}
    (action,) = plan([], [], previous=known).actions
    assert (action.kind, action.ticket) == (ActionKind.RESOLVE_TICKET, "PROJ-3")


def test_informational_findings_open_nothing() -> None:
    release = version(date=day(200))
    assert plan([release], [event(day(203), links=release)]).actions == ()


def test_duplicated_ids_resolve_the_same_way_whatever_the_order() -> None:
    a = version(date=day(30)).model_copy(update={"id": "1"})
    b = a.model_copy(update={"date": day(40)})
    assert plan([a, b], []).divergences == plan([b, a], []).divergences


def test_an_event_id_shared_by_two_calendars_is_two_events_and_a_repeated_one_is_one() -> None:
    # Google gives an event the same id on every calendar it is on.
    release = version(date=day(30))
    marketing = event(day(25), links=release).model_copy(update={"id": "shared"})
    product = marketing.model_copy(update={"calendar_id": "product"})
    found = plan([release], [marketing, product, marketing]).divergences
    assert sorted(d.identity for d in found) == [
        f"date_mismatch|{release.id}|marketing/shared",
        f"date_mismatch|{release.id}|product/shared",
    ]
    cancelled = product.model_copy(update={"status": EventStatus.CANCELLED})
    (left,) = plan([release], [cancelled, marketing]).divergences
    assert left.identity == f"date_mismatch|{release.id}|marketing/shared"
