"""Who hears about a divergence and what they read (pure: no servers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.alerts import (
    DigestItem,
    Slip,
    alert_for,
    digest_for,
    failure_alert,
    headline,
    route,
)
from models.calendar_ids import calendar_id_of
from models.config import AlertsConfig, RouteConfig
from models.plan import Divergence, DivergenceKind
from models.policy import Policy
from tests.factories import TODAY, day, event, issue, plan, version

RELEASE_URL = "https://jira.example.com/projects/ATL/versions/10001"
EVENT_URL = "https://calendar.google.com/calendar/event?eid=abc123"
TICKET_URL = "https://jira.example.com/browse/OPS-42"


def atl(date: dt.date, **fields: Any) -> Divergence:
    """The one divergence of ATL 2.1 (dated `date`) against its launch blog post."""
    release = version(
        "2.1", date, key="ATL", project="ATL", url=RELEASE_URL, owner="lead@example.com"
    )
    post = event(
        fields.pop("start", day(3)),
        links=release,
        title=str(fields.pop("title", "ATL 2.1 launch blog post")),
        url=EVENT_URL,
        organizer="pm@example.com",
        **fields,
    )
    (found,) = plan([release], [post]).divergences
    return found


def config(*routes: RouteConfig, fallback: bool = True) -> AlertsConfig:
    return AlertsConfig(routes=routes, fallback_to_owners=fallback)


# --- routing ----------------------------------------------------------------------------


def test_a_route_with_no_filters_matches_everything() -> None:
    assert route(atl(day(10)), config(RouteConfig(notify=("all@example.com",)))) == (
        "all@example.com",
    )


def test_every_filter_of_a_route_must_contain_the_divergences_value() -> None:
    d = atl(day(10))
    matching = RouteConfig(
        projects=("ATL",), event_types=("blog",), calendars=("marketing",), notify=("a@x.io",)
    )
    wrong_project = RouteConfig(projects=("PROJ",), notify=("b@x.io",))
    wrong_type = RouteConfig(event_types=("webinar",), notify=("c@x.io",))
    wrong_calendar = RouteConfig(calendars=("events",), notify=("d@x.io",))
    rules = config(matching, wrong_project, wrong_type, wrong_calendar)
    assert route(d, rules) == ("a@x.io",)


def test_a_route_may_name_a_feed_by_its_address_which_it_keeps_only_as_the_feeds_id() -> None:
    address = "https://calendar.google.com/calendar/ical/team/private-k3y/basic.ics"
    by_address = RouteConfig(calendars=(address,), notify=("a@x.io",))
    assert by_address.calendars == (calendar_id_of(address),) and "k3y" not in repr(by_address)
    d = atl(day(10))
    feed_event = d.event.model_copy(update={"calendar_id": calendar_id_of(address)})  # type: ignore[union-attr]
    rules = config(by_address, fallback=False)
    assert route(d.model_copy(update={"event": feed_event}), rules) == ("a@x.io",)
    assert route(d, rules) == ()  # another calendar's event


def test_every_matching_route_is_heard_once_in_config_order() -> None:
    rules = config(
        RouteConfig(projects=("ATL",), notify=("a@x.io", "slack://T1/B1/C1")),
        RouteConfig(event_types=("BLOG",), notify=("slack://T1/B1/C1", "b@x.io")),
    )
    assert route(atl(day(10)), rules) == ("a@x.io", "slack://T1/B1/C1", "b@x.io")


def test_the_event_type_comes_from_the_policy_declared_or_by_title_keyword() -> None:
    rules = config(RouteConfig(event_types=("webinar",), notify=("web@x.io",)), fallback=False)
    declared = atl(day(30), start=day(20), title="ATL 2.1 session", kind="webinar")
    by_title = atl(day(30), start=day(20), title="ATL 2.1 livestream")
    blog = atl(day(30), start=day(20))
    assert route(declared, rules, Policy()) == ("web@x.io",)
    assert route(by_title, rules) == ("web@x.io",)
    assert route(blog, rules) == ()


def test_without_a_matching_route_the_organizer_and_the_release_owner_hear() -> None:
    rules = config(RouteConfig(projects=("PROJ",), notify=("proj@x.io",)))
    assert route(atl(day(10)), rules) == ("pm@example.com", "lead@example.com")


def test_no_fallback_means_nobody_hears_an_unrouted_divergence() -> None:
    assert route(atl(day(10)), config(fallback=False)) == ()


def test_a_release_without_an_event_falls_back_to_its_owner_only() -> None:
    release = version("3.0", day(20), owner="lead@example.com")
    (missing,) = plan([release], []).divergences
    assert missing.kind is DivergenceKind.MISSING_EVENT
    assert route(missing, config()) == ("lead@example.com",)
    only_blogs = config(RouteConfig(event_types=("blog",), notify=("b@x.io",)))
    assert route(missing, only_blogs) == ("lead@example.com",)


def test_an_orphan_event_naming_a_missing_issue_is_routed_by_that_issues_project() -> None:
    gone = issue("ATL-99", day(20))
    orphan = event(day(20), links=gone, organizer="pm@example.com")
    (d,) = plan([], [orphan]).divergences
    assert d.kind is DivergenceKind.ORPHAN_EVENT
    assert route(d, config(RouteConfig(projects=("ATL",), notify=("atl@x.io",)))) == ("atl@x.io",)


# --- one alert --------------------------------------------------------------------------


def test_the_subject_says_severity_event_and_how_far_off_it_is() -> None:
    alert = alert_for(atl(day(10)), ("pm@example.com",))
    assert (
        alert.subject
        == "[launchsync] critical: ATL 2.1 launch blog post is 7 days before the release"
    )
    assert alert.severity == "critical"
    assert alert.recipients == ("pm@example.com",)


def test_the_key_is_the_identity_and_fingerprint() -> None:
    d = atl(day(10))
    assert alert_for(d, ()).key == f"{d.identity}|{d.fingerprint}"
    assert alert_for(atl(day(11)), ()).key != alert_for(d, ()).key


def test_the_body_says_what_moved_who_moved_it_when_and_what_was_expected() -> None:
    d = atl(day(10))
    moved = Slip(
        release_id=d.release.id if d.release else "",
        label="ATL 2.1",
        old_date=day(3),
        new_date=day(10),
        changed_by="Ana Lopez",
        changed_at=dt.datetime(2026, 11, 20, 14, 3, tzinfo=dt.UTC),
    )
    body = alert_for(d, ("pm@example.com",), moved, TICKET_URL).body
    assert f"ATL 2.1 moved from {day(3)} to {day(10)}, by Ana Lopez on 2026-11-20 14:03 UTC" in body
    assert f"ATL 2.1 ships {day(10)}" in body
    assert f"ATL 2.1 launch blog post on {day(3)}" in body
    assert f"**Expected:** {day(10)} (release +0 days); the event is 7 days early" in body
    assert f"[OPS-42]({TICKET_URL})" in body
    assert f"[ATL 2.1]({RELEASE_URL})" in body
    assert f"[ATL 2.1 launch blog post]({EVENT_URL})" in body


def test_without_slip_history_the_body_still_gives_both_dates_and_no_who() -> None:
    body = alert_for(atl(day(10)), ()).body
    assert "What moved" not in body
    assert "Ticket" not in body
    assert f"ships {day(10)}" in body and f"on {day(3)}" in body


def test_a_slip_known_only_by_its_dates_says_so_without_who_or_when() -> None:
    class StoreSlip:  # what the state store hands over: dates, nothing else
        old_date, new_date = day(3), day(10)

    body = alert_for(atl(day(10)), (), StoreSlip()).body
    assert f"ATL 2.1 moved from {day(3)} to {day(10)}\n" in body


def test_a_version_slip_nobody_is_known_to_have_made_says_when_it_was_seen() -> None:
    # Jira keeps no history of versions: only the run that saw the move knows when.
    seen = dt.datetime(2026, 11, 23, 6, 2, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    moved = Slip("10001", "ATL 2.1", day(3), day(10), seen_at=seen)
    body = alert_for(atl(day(10)), (), moved).body
    assert f"ATL 2.1 moved from {day(3)} to {day(10)}, seen 2026-11-23 14:02 UTC\n" in body
    by_whom = Slip("10001", "ATL 2.1", day(3), day(10), changed_by="Jane Doe", seen_at=seen)
    body = alert_for(atl(day(10)), (), by_whom).body
    assert f"moved from {day(3)} to {day(10)}, by Jane Doe, seen 2026-11-23 14:02 UTC\n" in body


def test_an_offset_event_type_is_measured_against_its_expected_date() -> None:
    webinar = atl(day(30), start=day(30), title="ATL 2.1 webinar")
    assert headline(webinar) == "ATL 2.1 webinar is 7 days early"
    assert f"**Expected:** {day(37)} (release +7 days)" in alert_for(webinar, ()).body


def test_a_title_with_line_breaks_stays_on_one_subject_line() -> None:
    d = atl(day(10), title="ATL 2.1\nlaunch   blog post")
    subject = alert_for(d, ()).subject
    assert "\n" not in subject
    assert subject.endswith("ATL 2.1 launch blog post is 7 days before the release")


def test_headlines_of_the_other_kinds() -> None:
    overdue = version("1.9", day(-3), key="ATL", project="ATL")
    unscheduled = version("2.2", None, key="ATL", project="ATL")
    found = plan([overdue, unscheduled], [event(day(40), links=unscheduled, title="2.2 blog")])
    lines = sorted(headline(d) for d in found.divergences)
    assert lines == [
        "2.2 blog is for ATL 2.2, which has no release date",
        "ATL 1.9 is 3 days overdue",
    ]


# --- digest and failures ----------------------------------------------------------------


def test_a_digest_lists_every_divergence_and_is_keyed_on_day_recipients_and_entries() -> None:
    a = DigestItem(atl(day(40), start=day(47)))
    b = DigestItem(atl(day(50), start=day(52), title="ATL 2.1 newsletter"))
    digest = digest_for([a, b], ("b@x.io", "a@x.io"), TODAY)
    assert digest.key.startswith(f"digest|{TODAY.isoformat()}|")
    assert digest.key == digest_for([b, a], ("a@x.io", "b@x.io"), TODAY).key
    assert digest.key != digest_for([a, b], ("a@x.io",), TODAY).key
    # A later digest that day with other entries is another message, not a resend of this one.
    assert digest.key != digest_for([b], ("a@x.io", "b@x.io"), TODAY).key
    assert digest.subject == f"[launchsync] digest {TODAY}: 2 divergences (2 warning)"
    assert headline(a.divergence) in digest.body and headline(b.divergence) in digest.body
    assert f"[Jira release]({RELEASE_URL})" in digest.body
    assert digest.recipients == ("b@x.io", "a@x.io")


def test_a_digest_entry_says_what_moved_from_and_to_who_when_and_links_the_ticket() -> None:
    d = atl(day(40), start=day(47))
    at = dt.datetime(2026, 11, 20, 14, 3, tzinfo=dt.UTC)
    moved = Slip("10001", "ATL 2.1", day(33), day(40), changed_by="Ana Lopez", changed_at=at)
    note = "launchsync marked the event tentative"
    body = digest_for([DigestItem(d, moved, TICKET_URL, note)], ("pm@x.io",), TODAY).body
    entry = body.split(f"- **warning:** {headline(d)}\n", 1)[1].splitlines()
    assert entry[:4] == [
        f"  - ATL 2.1 moved from {day(33)} to {day(40)}, by Ana Lopez on 2026-11-20 14:03 UTC",
        f"  - ATL 2.1 ships {day(40)}; ATL 2.1 launch blog post on {day(47)}",
        f"  - {note}",
        f"  - ticket [OPS-42]({TICKET_URL}) · [Jira release]({RELEASE_URL})"
        f" · [calendar event]({EVENT_URL})",
    ]


def test_a_digest_entry_without_slip_or_ticket_still_gives_both_dates() -> None:
    d = atl(day(40), start=day(47))
    body = digest_for([DigestItem(d)], ("pm@x.io",), TODAY).body
    assert f"  - ATL 2.1 ships {day(40)}; ATL 2.1 launch blog post on {day(47)}\n" in body
    assert "moved" not in body and "ticket" not in body


def test_a_failure_alert_goes_to_operators_once_per_distinct_error() -> None:
    alert = failure_alert(
        "prod.yaml", "jira versions failed (last status 401): check", ("ops@x.io",)
    )
    assert alert.recipients == ("ops@x.io",)
    assert alert.subject == "[launchsync] sync failed: prod.yaml"
    assert "jira versions failed (last status 401)" in alert.body
    assert (
        alert.key
        == failure_alert("prod.yaml", "jira versions failed (last status 401): check", ()).key
    )
    assert alert.key != failure_alert("prod.yaml", "calendar events failed", ()).key


def test_a_failure_alert_can_repeat_daily() -> None:
    today = failure_alert("prod.yaml", "calendar events failed", (), day=TODAY)
    assert today.key.startswith(f"failure|prod.yaml|{TODAY.isoformat()}|")
    assert today.key != failure_alert("prod.yaml", "calendar events failed", (), day=day(1)).key
