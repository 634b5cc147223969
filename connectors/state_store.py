"""What launchsync remembers between runs, per config: cursors, the last snapshot, slip
history, open divergences, claimed and owed alerts, the run lock and run history.

SQLite file by default, PostgreSQL by URL; the schema migrates itself on open. Every
timestamp in and out is timezone-aware UTC. Atomicity comes from primary keys and
conditional writes, so it holds across threads, processes and hosts.

    with StateStore.open("sqlite:///launchsync.db") as store:
        with store.lock("prod", owner="host:1234", ttl=timedelta(minutes=30)) as acquired:
            ...
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from connectors import state_db, state_health, state_seen
from connectors.base import Alert
from connectors.channels import recipient_label
from connectors.state_schema import alerts, cursors, divergences, locks, owed_alerts, runs
from connectors.state_seen import NO_CHANGES, Changes, Slip, require_aware
from models.event import LaunchEvent
from models.freshness import Channel, SourceHealth, WebhookActivity
from models.reconcile import KnownDivergence
from models.release import Release

__all__ = [
    "DEFAULT_URL",
    "RUN_SUCCESS",
    "Changes",
    "Slip",
    "StateStore",
    "owner_is_dead",
    "process_owner",
    "utc_now",
]

log = logging.getLogger(__name__)
DEFAULT_URL = "sqlite:///launchsync.db"
RUN_SUCCESS = "success"  # the `status` of record_run that last_success looks for


def process_owner(tag: str = "") -> str:
    """A lock owner naming this host and process (`host:pid:tag`), so a crash can be seen."""
    return f"{socket.gethostname()}:{os.getpid()}:{tag}"


def owner_is_dead(owner: str) -> bool:
    """True only for a `process_owner` of this host whose process no longer exists."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False  # another host (or a free-form owner) can only expire by ttl
    try:
        os.kill(int(pid), 0)  # signal 0: existence check only
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False


class _Heartbeat:
    """Calls `beat` every `seconds` on a daemon thread until stopped or `beat` says False."""

    def __init__(self, beat: Callable[[], bool], seconds: float) -> None:
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(beat, seconds), name="launchsync-lock-heartbeat", daemon=True
        )
        self._thread.start()

    def _run(self, beat: Callable[[], bool], seconds: float) -> None:
        while not self._stopped.wait(seconds):
            try:
                if not beat():
                    log.warning("launchsync: the run lock was taken over; no longer renewing it")
                    return
            except Exception as exc:  # a blip in the database: the next beat tries again
                log.warning("launchsync: could not renew the run lock: %s", exc)

    def stop(self) -> None:
        """Stop beating; returns once the thread has ended."""
        self._stopped.set()
        self._thread.join()


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class StateStore:
    """The state of every config in one database; use `StateStore.open(url)`."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    @classmethod
    def open(
        cls, url: str = DEFAULT_URL, *, clock: Callable[[], dt.datetime] = utc_now
    ) -> StateStore:
        """Connect and migrate; ConfigError for a bad URL, ConnectorError if unreachable."""
        parsed = state_db.parse_url(url)
        engine = state_db.open_engine(parsed)
        try:
            with state_db.translated(parsed, "open"):
                state_db.migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock)

    @property
    def url(self) -> str:
        """The database URL with its password masked."""
        return state_db.shown(self._engine.url)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _tx(self, call: str) -> Iterator[Connection]:
        with state_db.translated(self._engine.url, call), self._engine.begin() as connection:
            yield connection

    # --- cursors -------------------------------------------------------------------------

    def cursors(self, config_key: str) -> dict[str, str]:
        """Every saved cursor of the config, by read unit ("jira:PROJ", "google:cal@x")."""
        query = select(cursors.c.name, cursors.c.value).where(cursors.c.config_key == config_key)
        with self._tx("cursors") as db:
            return {name: value for name, value in db.execute(query)}

    def save_cursors(self, config_key: str, values: Mapping[str, str]) -> None:
        """Save cursors by name; units not named keep theirs."""
        rows = [{"config_key": config_key, "name": k, "value": v} for k, v in values.items()]
        with self._tx("save_cursors") as db:
            state_db.upsert(db, cursors, rows)

    # --- snapshot and slip history (connectors.state_seen) ------------------------------

    def load_snapshot(self, config_key: str) -> tuple[list[Release], list[LaunchEvent]]:
        """The releases and live events as of the last apply_snapshot, in key order."""
        with self._tx("load_snapshot") as db:
            return state_seen.load_snapshot(db, config_key)

    def apply_snapshot(
        self,
        config_key: str,
        releases: Iterable[Release],
        events: Iterable[LaunchEvent],
        *,
        complete: bool,
    ) -> None:
        """Replace the stored set (complete) or upsert a delta; cancelled events are removed."""
        with self._tx("apply_snapshot") as db:
            state_seen.apply_snapshot(db, config_key, releases, events, complete=complete)

    def record_release_dates(
        self,
        config_key: str,
        releases: Iterable[Release],
        seen_at: dt.datetime,
        changes: Changes = NO_CHANGES,
    ) -> list[Slip]:
        """Note each release's date when first seen or changed; return the changes (slips).

        `changes` gives, by release id, who changed the date and when (Jira's changelog).
        """
        require_aware("seen_at", seen_at)
        with self._tx("record_release_dates") as db:
            return state_seen.record_release_dates(db, config_key, releases, seen_at, changes)

    def slip_history(self, config_key: str, release_id: str | None = None) -> list[Slip]:
        """Every recorded date change of the config (or of one release), newest last."""
        with self._tx("slip_history") as db:
            return state_seen.slip_history(db, config_key, release_id)

    # --- open divergences ----------------------------------------------------------------

    def known_divergences(self, config_key: str) -> dict[str, KnownDivergence]:
        """The divergences acted on and not yet resolved, by identity."""
        c = divergences.c
        query = select(c.identity, c.fingerprint, c.ticket).where(c.config_key == config_key)
        with self._tx("known_divergences") as db:
            return {row.identity: KnownDivergence(*row) for row in db.execute(query)}

    def record_divergence(
        self, config_key: str, identity: str, fingerprint: str, ticket: str | None
    ) -> None:
        """Remember (or update) a divergence acted on, with its ticket key."""
        row = {
            "config_key": config_key,
            "identity": identity,
            "fingerprint": fingerprint,
            "ticket": ticket,
            "updated_at": self._clock(),
        }
        with self._tx("record_divergence") as db:
            state_db.upsert(db, divergences, [row])

    def forget_divergence(self, config_key: str, identity: str) -> None:
        """Drop a resolved divergence; nothing happens if it is not known."""
        c = divergences.c
        with self._tx("forget_divergence") as db:
            db.execute(
                delete(divergences).where(c.config_key == config_key, c.identity == identity)
            )

    # --- alerts, at most once ------------------------------------------------------------

    def claim_alert(self, config_key: str, alert_key: str, recipients: Sequence[str]) -> bool:
        """True for the one caller that may send this alert; False for every later one.

        Recipients are kept as labels: a channel URL holds its token.
        """
        row = {
            "config_key": config_key,
            "alert_key": alert_key,
            "recipients": json.dumps([recipient_label(r) for r in recipients]),
            "claimed_at": self._clock(),
        }
        with self._tx("claim_alert") as db:
            return state_db.insert_new(db, alerts, row)

    def confirm_alert(self, config_key: str, alert_key: str) -> None:
        """Mark a claimed alert as delivered."""
        c = alerts.c
        with self._tx("confirm_alert") as db:
            db.execute(
                update(alerts)
                .where(c.config_key == config_key, c.alert_key == alert_key)
                .where(c.confirmed_at.is_(None))
                .values(confirmed_at=self._clock())
            )

    def release_alert(self, config_key: str, alert_key: str) -> None:
        """Give back an unconfirmed claim whose send failed, so a later run may retry it."""
        c = alerts.c
        with self._tx("release_alert") as db:
            db.execute(
                delete(alerts)
                .where(c.config_key == config_key, c.alert_key == alert_key)
                .where(c.confirmed_at.is_(None))
            )

    def unconfirmed_alerts(self, config_key: str) -> list[str]:
        """Keys claimed but never confirmed: the send may have crashed (report, don't resend)."""
        c = alerts.c
        query = (
            select(c.alert_key)
            .where(c.config_key == config_key, c.confirmed_at.is_(None))
            .order_by(c.claimed_at, c.alert_key)
        )
        with self._tx("unconfirmed_alerts") as db:
            return list(db.scalars(query))

    def owe_alert(self, config_key: str, identity: str, alert: Alert) -> None:
        """Write down the alert about `identity` before an effect that may end it.

        Its recipients are kept as labels (`recipient_label`): whoever sends it later finds
        the channels they stand for in the config, so no channel's token is stored.
        """
        labelled = dataclasses.replace(
            alert, recipients=tuple(map(recipient_label, alert.recipients))
        )
        row = {
            "config_key": config_key,
            "identity": identity,
            "alert": json.dumps(dataclasses.asdict(labelled)),
            "owed_at": self._clock(),
        }
        with self._tx("owe_alert") as db:
            state_db.upsert(db, owed_alerts, [row])

    def owed_alerts(self, config_key: str) -> dict[str, Alert]:
        """The alerts written down and not yet settled, by divergence identity (recipients
        as labels)."""
        c = owed_alerts.c
        query = select(c.identity, c.alert).where(c.config_key == config_key)
        with self._tx("owed_alerts") as db:
            rows = db.execute(query).all()
        return {row.identity: _alert_of(row.alert) for row in rows}

    def settle_owed_alert(self, config_key: str, identity: str) -> None:
        """Drop an owed alert: it was sent, or its divergence is there to tell again."""
        c = owed_alerts.c
        with self._tx("settle_owed_alert") as db:
            db.execute(
                delete(owed_alerts).where(c.config_key == config_key, c.identity == identity)
            )

    # --- run lock and history ------------------------------------------------------------

    @contextmanager
    def lock(
        self, config_key: str, owner: str, ttl: dt.timedelta, renew_every: float | None = None
    ) -> Iterator[bool]:
        """Yield True if this owner holds the config's run lock (until exit or ttl).

        A lock left by a dead `process_owner` of this host is taken over at once. With
        `renew_every` (seconds), a heartbeat keeps pushing the expiry `ttl` ahead while the
        holder lives, so a short ttl frees the lock soon after a holder on any host dies.
        """
        acquired = self._acquire(config_key, owner, ttl)
        heartbeat = None
        if acquired and renew_every is not None and not self._in_memory:
            heartbeat = _Heartbeat(lambda: self._renew(config_key, owner, ttl), renew_every)
        try:
            yield acquired
        finally:
            if heartbeat is not None:
                heartbeat.stop()
            if acquired:
                c = locks.c
                with self._tx("unlock") as db:
                    db.execute(delete(locks).where(c.config_key == config_key, c.owner == owner))

    @property
    def _in_memory(self) -> bool:
        # One process only (and one shared connection): nobody else can wait on its lock.
        url = self._engine.url
        return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")

    def _renew(self, config_key: str, owner: str, ttl: dt.timedelta) -> bool:
        """Push this owner's lock expiry ttl ahead; False when the lock is no longer its own."""
        c = locks.c
        with self._tx("renew lock") as db:
            renewed = db.execute(
                update(locks)
                .where(c.config_key == config_key, c.owner == owner)
                .values(expires_at=self._clock() + ttl)
            )
        return renewed.rowcount == 1

    def _acquire(self, config_key: str, owner: str, ttl: dt.timedelta) -> bool:
        if ttl <= dt.timedelta(0):
            raise ValueError(f"lock ttl must be positive, got {ttl}")
        now = self._clock()
        held = {"owner": owner, "acquired_at": now, "expires_at": now + ttl}
        with self._tx("lock") as db:
            if state_db.insert_new(db, locks, {"config_key": config_key, **held}):
                return True
            # Take over only an expired lock; the WHERE makes two takers race to one winner.
            c = locks.c
            taken = db.execute(
                update(locks).where(c.config_key == config_key, c.expires_at <= now).values(held)
            )
            if taken.rowcount == 1:
                return True
            # A run that crashed (killed, OOM, os._exit) never deletes its row, and would block
            # every run for the whole ttl; when its owner is a dead process of this host, take
            # over now. The WHERE on that owner keeps two takers racing to one winner.
            holder = db.scalar(select(c.owner).where(c.config_key == config_key))
            if holder is None or not owner_is_dead(holder):
                return False
            taken = db.execute(
                update(locks).where(c.config_key == config_key, c.owner == holder).values(held)
            )
            return taken.rowcount == 1

    def record_run(
        self,
        config_key: str,
        started: dt.datetime,
        finished: dt.datetime,
        status: str,
        summary: Mapping[str, Any],
    ) -> None:
        """Note one run; `status` RUN_SUCCESS ("success") counts for last_success."""
        require_aware("started", started)
        require_aware("finished", finished)
        row = {
            "config_key": config_key,
            "started": started,
            "finished": finished,
            "status": status,
            "summary": json.dumps(summary, default=str, sort_keys=True),
        }
        with self._tx("record_run") as db:
            db.execute(insert(runs).values(row))

    def last_success(self, config_key: str) -> dt.datetime | None:
        """When the newest successful run finished, or None if none did."""
        c = runs.c
        query = select(func.max(c.finished)).where(
            c.config_key == config_key, c.status == RUN_SUCCESS
        )
        with self._tx("last_success") as db:
            latest: dt.datetime | None = db.scalar(query)
        return latest

    # --- freshness (connectors.state_health) ---------------------------------------------

    def record_read(
        self, config_key: str, source: str, *, error: str | None = None, status: int | None = None
    ) -> None:
        """Note a read of `source` now: a success, or a failure with its (redacted) error."""
        with self._tx("record_read") as db:
            state_health.record_read(db, config_key, source, self._clock(), error, status)

    def source_health(self, config_key: str) -> list[SourceHealth]:
        """How every source of this config fared on its latest reads."""
        with self._tx("source_health") as db:
            return state_health.health(db, config_key)

    def save_channel(self, config_key: str, channel: Channel) -> None:
        """Remember the push channel open on a calendar, replacing an older one."""
        require_aware("expires_at", channel.expires_at)
        with self._tx("save_channel") as db:
            state_health.save_channel(db, config_key, channel)

    def channels(self, config_key: str) -> list[Channel]:
        """The push channels launchsync holds open, by calendar."""
        with self._tx("channels") as db:
            return state_health.channels(db, config_key)

    def forget_channel(self, config_key: str, calendar_id: str) -> None:
        """Forget a calendar's push channel."""
        with self._tx("forget_channel") as db:
            state_health.forget_channel(db, config_key, calendar_id)

    def record_webhook(self, config_key: str, source: str) -> None:
        """Note that the receiver accepted an authenticated webhook of `source` now."""
        with self._tx("record_webhook") as db:
            now = self._clock()
            state_health.note_webhook(db, config_key, source, now, now, change=False)

    def record_change(self, config_key: str, source: str, at: dt.datetime) -> None:
        """Note a change of a webhook-watched `source` a sync saw, made at `at`."""
        require_aware("at", at)
        with self._tx("record_change") as db:
            state_health.note_webhook(db, config_key, source, at, self._clock(), change=True)

    def webhook_activity(self, config_key: str) -> list[WebhookActivity]:
        """When each watched source's webhooks last arrived and it last changed."""
        with self._tx("webhook_activity") as db:
            return state_health.webhook_activity_of(db, config_key)


def _alert_of(text: str) -> Alert:
    data = json.loads(text)
    return Alert(**{**data, "recipients": tuple(data["recipients"])})
