"""Carry out a plan's actions, each side effect once.

Per divergence: ticket first, then alert, then record it in the state store — so a crash
or failure anywhere before the record makes the next run try again, and nothing repeats:
tickets are found again by the marker the sink stores on them; alerts are claimed in the
store before sending (at most once), a failed send gives its claim back, and a crash between
claim and send is reported as an unconfirmed delivery rather than sent twice. An alert
about a write-back move is written down before the move, which may end its divergence.
One failing divergence never stops the others.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.alerts import (
    DIGEST_ENTRY,
    DigestItem,
    alert_for,
    digest_entry_key,
    digest_for,
    recipients_hash,
    route,
)
from connectors.base import Alert, CalendarWriter, TicketSink
from connectors.channels import channel_kind, recipient_label
from flows.bootstrap import Runtime
from models.dates import zone
from models.errors import LaunchsyncError
from models.event import EventStatus
from models.plan import Action, ActionKind, Divergence, DivergenceKind, Plan, Urgency

OPENED_UNTOLD = "opened-untold:"  # fingerprint prefix of a ticket opened, alert not yet done
# A slip seen longer ago than this was told when it was seen; an alert now is about more.
SLIP_TOLD_WITHIN = dt.timedelta(days=1)
COUNTS = ("opened", "commented", "resolved", "calendar", "alerted", "unconfirmed", "failures")


@dataclass
class ActOutcome:
    """What a run did; every list holds one line per item."""

    opened: list[str] = field(default_factory=list)
    commented: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    calendar: list[str] = field(default_factory=list)  # write-backs applied
    alerted: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """Counts by kind, for logs and artifacts."""
        return {name: len(getattr(self, name)) for name in COUNTS}


@dataclass(frozen=True)
class _Pending:
    """A divergence whose alert waits for the digest; it is recorded once that is sent."""

    item: DigestItem
    recipients: tuple[str, ...]
    ticket: str | None

    @property
    def divergence(self) -> Divergence:
        """The divergence the digest entry is about."""
        return self.item.divergence


def in_scope(identity: str, divergence: Divergence | None, release_ids: set[str]) -> bool:
    """A targeted run acts only on divergences of the releases it was asked about."""
    if not release_ids:
        return True
    if divergence is not None:
        release = divergence.release.id if divergence.release else divergence.linked_release_id
        return release in release_ids
    return identity.split("|")[1] in release_ids  # a resolve: the identity names the release


def act(
    plan: Plan,
    runtime: Runtime,
    *,
    slips: Iterable[Any] = (),
    release_ids: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> ActOutcome:
    """Open, comment, resolve and alert as the plan says; idempotent and failure-isolated."""
    outcome, now = ActOutcome(), now or dt.datetime.now(dt.UTC)
    divergences = {d.identity: d for d in plan.divergences}
    scope, slip_by_release = set(release_ids), {s.release_id: s for s in slips}
    grouped: dict[str, list[Action]] = defaultdict(list)
    for action in plan.actions:
        grouped[action.identity].append(action)
    if not plan.blind:  # stale data cannot tell whether an owed alert's divergence ended
        _pay_owed_alerts(divergences, runtime, outcome, scope)
    digest: dict[tuple[str, ...], list[_Pending]] = defaultdict(list)
    for identity, actions in grouped.items():
        divergence = divergences.get(identity)
        if not in_scope(identity, divergence, scope):
            continue
        try:
            pending = _settle(actions, divergence, runtime, outcome, slip_by_release, now)
        except LaunchsyncError as exc:
            outcome.failures.append(runtime.redactor(f"{identity}: {exc}"))
            continue
        if pending is not None:
            digest[pending.recipients].append(pending)
    if _digest_due(runtime, now):
        for recipients, items in digest.items():
            _send_digest(recipients, items, plan, runtime, outcome)
    # Before the digest hour, pending warnings stay unrecorded: the next run plans them again.
    # Deliveries only: a digest's entry claims are left unconfirmed with the digest's own.
    unconfirmed = runtime.store.unconfirmed_alerts(runtime.config_key)
    outcome.unconfirmed.extend(k for k in unconfirmed if not k.startswith(DIGEST_ENTRY))
    return outcome


def _settle(
    actions: list[Action],
    d: Divergence | None,
    runtime: Runtime,
    outcome: ActOutcome,
    slips: Mapping[str, Any],
    now: dt.datetime,
) -> _Pending | None:
    """Ticket, then alert, then record, for one divergence."""
    store, key, sink = runtime.store, runtime.config_key, runtime.sink
    first = actions[0]
    if first.kind is ActionKind.RESOLVE_TICKET:
        # No ticket on record: a run died between noting the divergence and opening it.
        known = first.ticket or (sink.find(first.identity) if sink is not None else None)
        if sink is not None and known:
            sink.resolve(known, first.identity)
        store.forget_divergence(key, first.identity)
        outcome.resolved.append(first.ticket or first.identity)
        return None
    assert d is not None, f"plan action {first.identity} has no divergence"
    ticket_key, ticket_url = first.ticket, None
    # A noted divergence without a ticket: the run that noted it died before opening one.
    reopen = first.kind is ActionKind.COMMENT_TICKET and not first.ticket
    if (first.kind is ActionKind.OPEN_TICKET or reopen) and sink is not None:
        # Note the divergence before and after opening its ticket, under a fingerprint no
        # divergence has. If the run dies before the final record, the next run acts on it
        # again (the marker finds the ticket, the claim keeps the alert to once) — or, if it
        # is gone by then, resolves the ticket. Without this, a ticket whose run died stayed
        # open forever once its divergence went away (found by the chaos suite).
        untold = OPENED_UNTOLD + d.fingerprint
        store.record_divergence(key, d.identity, untold, first.ticket)
        ticket = sink.open(d)
        ticket_key, ticket_url = ticket.key, ticket.url
        store.record_divergence(key, d.identity, untold, ticket_key)
        outcome.opened.append(ticket.key)
    elif (
        first.kind is ActionKind.COMMENT_TICKET
        and sink is not None
        and first.ticket
        and sink.comment(first.ticket, d)  # False: the ticket already says this
    ):
        outcome.commented.append(first.ticket)
    slip = slips.get(d.release.id) if d.release else None
    # A run that died after the fetch stored the slip leaves it to this one, which must
    # still move the event with its release (it marked it tentative; found by chaos).
    told = slip or _recent_slip(runtime, d, now)
    alert = next((a for a in actions if a.kind is ActionKind.ALERT), None)
    recipients = route(d, runtime.config.alerts, runtime.config.policy) if alert else ()
    ticket_url = ticket_url or _ticket_url(sink, ticket_key)
    owed = False

    def owe(note: str) -> None:
        # A move ends the divergence: were the run to die after it, the next run would see
        # the event aligned and nothing to tell. So the alert is written down first.
        nonlocal owed
        if recipients:
            store.owe_alert(key, d.identity, alert_for(d, recipients, told, ticket_url, note))
            owed = True

    note = _write_back(d, runtime, told, outcome, before_move=owe)
    if alert is not None and recipients:
        item = DigestItem(d, told, ticket_url, note)
        # A moved event is news at once: the digest would come after the alert it owes.
        if alert.urgency is Urgency.DIGEST and runtime.config.alerts.digest and not owed:
            return _Pending(item, recipients, ticket_key)
        send_once(alert_for(d, recipients, told, item.ticket_url, note), runtime, outcome)
    store.record_divergence(key, d.identity, d.fingerprint, ticket_key)
    if owed:
        store.settle_owed_alert(key, d.identity)
    return None


def _pay_owed_alerts(
    divergences: Mapping[str, Divergence], runtime: Runtime, outcome: ActOutcome, scope: set[str]
) -> None:
    """Send the alerts a run wrote down before a move and died before sending.

    If their divergence is still in the plan, the run acts on it afresh and they are dropped.
    """
    store, key = runtime.store, runtime.config_key
    owed = store.owed_alerts(key)
    if not owed:
        return
    configured = {recipient_label(t): t for r in runtime.config.alerts.routes for t in r.notify}
    for identity, alert in owed.items():
        if not in_scope(identity, divergences.get(identity), scope):
            continue
        if identity not in divergences:
            # An address is its own label; a channel gone from the config is not told.
            recipients = tuple(
                configured.get(label, label)
                for label in alert.recipients
                if label in configured or "://" not in label
            )
            try:
                send_once(replace(alert, recipients=recipients), runtime, outcome)  # once
            except LaunchsyncError as exc:
                outcome.failures.append(runtime.redactor(f"{identity}: {exc}"))
                continue
        store.settle_owed_alert(key, identity)


def _ticket_url(sink: TicketSink | None, ticket: str | None) -> str | None:
    """Where the divergence's ticket opens, whichever run opened it."""
    return sink.url(ticket) if sink is not None and ticket else None


def _recent_slip(runtime: Runtime, d: Divergence, now: dt.datetime) -> Any:
    """The store's newest slip to the release's current date, if seen lately.

    A digest goes out hours after the run that saw the move, and a run that died before
    alerting leaves the move to the next one: neither has the slip among its own.
    """
    if d.release is None:
        return None
    history = runtime.store.slip_history(runtime.config_key, d.release.id)
    latest = history[-1] if history else None
    if (
        latest is None
        or latest.new_date != d.release.date
        or now - latest.seen_at > SLIP_TOLD_WITHIN
    ):
        return None
    return latest


def _write_back(
    d: Divergence,
    runtime: Runtime,
    slip: Any,
    outcome: ActOutcome,
    before_move: Callable[[str], None],
) -> str | None:
    """With `calendar.write_back`, follow a slip on the calendar or flag the event.

    An event that was in step with the release's old date moves as far as the release did
    (`before_move` hears what the alert will say first); any other event's date was a
    person's choice, so it is only marked tentative. Returns the line the alert tells; a
    write-back that fails never stops the alert.
    """
    calendar, event, release = runtime.sources.calendar, d.event, d.release
    if (
        not runtime.config.calendar.write_back
        or not isinstance(calendar, CalendarWriter)
        or d.kind is not DivergenceKind.DATE_MISMATCH
        or event is None
        or release is None
        or release.date is None
    ):
        return None
    policy = runtime.config.policy
    offset = dt.timedelta(days=policy.event_offset(event))
    where = f"{event.calendar_id}/{event.id}"
    old_date, day = (slip.old_date if slip is not None else None), d.event_date
    try:
        if (
            old_date is not None
            and day is not None
            and abs((day - (old_date + offset)).days) <= policy.tolerance_days
        ):
            target = day + (release.date - old_date)  # as far as the release moved
            done = f"launchsync moved the event to {target}, with the release"
            before_move(done)
            result = calendar.move_event(event.calendar_id, event.id, target, event.etag)
        elif event.status is not EventStatus.TENTATIVE:
            result = calendar.mark_tentative(event.calendar_id, event.id, event.etag)
            done = "launchsync marked the event tentative"
        else:
            return None
    except LaunchsyncError as exc:
        outcome.failures.append(runtime.redactor(f"write-back of {where}: {exc}"))
        return None
    if not result.applied:
        return result.message
    outcome.calendar.append(f"{where}: {done.removeprefix('launchsync ')}")
    return done


def _digest_due(runtime: Runtime, now: dt.datetime) -> bool:
    alerts = runtime.config.alerts
    return now.astimezone(zone(runtime.config.timezone)).hour >= alerts.digest_hour


def _send_digest(
    recipients: tuple[str, ...],
    items: list[_Pending],
    plan: Plan,
    runtime: Runtime,
    outcome: ActOutcome,
) -> None:
    """Send each recipient the entries not yet in its digests today; then record them told.

    Nothing is recorded until every recipient has been sent (or was already sent) its
    entries, so a warning that turns up after the day's digest goes out in a digest of its
    own on the next due run, once, instead of being taken for told.
    """
    failed: list[LaunchsyncError] = []
    for recipient in recipients:
        try:
            _send_digest_to(recipient, items, plan.today, runtime, outcome)
        except LaunchsyncError as exc:
            failed.append(exc)
    if failed:
        line = f"digest to {len(failed)} of {len(recipients)} recipients: {failed[0]}"
        outcome.failures.append(runtime.redactor(line))
        return
    for p in items:
        runtime.store.record_divergence(
            runtime.config_key, p.divergence.identity, p.divergence.fingerprint, p.ticket
        )


def _send_digest_to(
    recipient: str, items: list[_Pending], day: dt.date, runtime: Runtime, outcome: ActOutcome
) -> None:
    """Claim each entry for this recipient's digest of the day, send the claimed ones once.

    An entry claimed by an earlier run is in a digest that went out (or whose send crashed
    and is reported unconfirmed): it is never put in a second one. A failed send gives the
    entries back, so the next run sends them again.
    """
    store, key = runtime.store, runtime.config_key
    if runtime.notifier is None:
        return
    claims = [(p, digest_entry_key(p.divergence, recipient, day)) for p in items]
    fresh = [(p, claim) for p, claim in claims if store.claim_alert(key, claim, (recipient,))]
    if not fresh:
        return
    try:
        send_once(digest_for([p.item for p, _ in fresh], (recipient,), day), runtime, outcome)
    except LaunchsyncError:
        for _, claim in fresh:
            store.release_alert(key, claim)
        raise
    for _, claim in fresh:
        store.confirm_alert(key, claim)


def send_once(alert: Alert, runtime: Runtime, outcome: ActOutcome) -> None:
    """Per recipient: claim, send, confirm. A failed send gives its claim back so a later
    run retries that recipient only; the others are not sent the alert twice."""
    store, key, notifier = runtime.store, runtime.config_key, runtime.notifier
    if notifier is None:
        return
    failed: list[LaunchsyncError] = []
    for recipient in alert.recipients:
        one = replace(
            alert, key=f"{alert.key}|{recipients_hash([recipient])}", recipients=(recipient,)
        )
        if not store.claim_alert(key, one.key, one.recipients):
            continue
        try:
            notifier.send(one)
        except LaunchsyncError as exc:
            store.release_alert(key, one.key)
            failed.append(exc)
            continue
        store.confirm_alert(key, one.key)
        outcome.alerted.append(f"{alert.subject} -> {channel_kind(recipient)}")
    if failed:
        raise failed[0]
