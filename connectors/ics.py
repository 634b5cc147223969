"""Published ICS feeds (files or http(s) URLs) as a CalendarSource.

Every read is whole (`Batch.complete`): a feed has no change tokens. A feed that is not
there (HTTP 404 / 410, no such file) is a problem named in `Batch.unread`, so the other feeds
still read and the sync keeps the missing feed's last events. A feed that cannot be fetched
otherwise (after retries) or parsed fails the read (`ConnectorError` / `ConfigError`), because
leaving it out would look like all its events were deleted; a bad event is only a problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from connectors.base import Batch
from connectors.ical_json import IcalRead, read_ical
from connectors.retry import RetryPolicy, retrying
from models.calendar_ids import calendar_id_of
from models.config import CalendarConfig
from models.dates import Window
from models.errors import ConfigError, ConnectorError
from models.event import LaunchEvent
from models.plan import ItemProblem

SYSTEM = "ics"
SOURCE = "ics"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MISSING_STATUSES = frozenset({404, 410})  # the feed is not there: no retry brings it back


@dataclass(frozen=True)
class IcsFeed:
    """One feed: `id` names its events' calendar (safe to show: never the address, which
    may be the feed's password), `location` is a path or http(s) URL."""

    id: str
    location: str

    @classmethod
    def of(cls, location: str) -> IcsFeed:
        """A feed at a location `calendar.calendar_ids` gives, named safely after it."""
        return cls(id=calendar_id_of(location), location=location)

    @property
    def remote(self) -> bool:
        """True when fetched over HTTP (webcal:// is HTTPS by convention)."""
        return self.location.lower().startswith(("http://", "https://", "webcal://"))


class FeedNotFound(ConfigError):
    """A feed that is not there (HTTP 404 / 410, or no such file): only it goes unread."""

    def __init__(self, feed: IcsFeed, problem: str) -> None:
        super().__init__(f"ICS feed {feed.id} {problem}")
        self.feed = feed
        self.problem_text = problem

    def problem(self) -> ItemProblem:
        """The feed as a skipped calendar, so the other feeds still read."""
        return ItemProblem(item=f"calendar {self.feed.id}", error=self.problem_text)


class IcsCalendarSource:
    """Launch events from ICS feeds, recurrences expanded inside `window`."""

    def __init__(
        self,
        feeds: Sequence[IcsFeed],
        *,
        window: Window | None = None,
        policy: RetryPolicy | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.feeds = tuple(feeds)
        # The composition root passes the window for reproducible plans (--today).
        self.window = window or Window.around(dt.date.today())
        self.policy = policy
        self.client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)

    @classmethod
    def from_config(cls, config: CalendarConfig, window: Window) -> IcsCalendarSource:
        """One feed per `calendar.calendar_ids` entry (a path or URL, also its calendar id)."""
        return cls([IcsFeed.of(location) for location in config.calendar_ids], window=window)

    def events(self, cursor: Mapping[str, str] | None = None) -> Batch[LaunchEvent]:
        """Every event of every feed; feeds carry no change tokens, so the cursor is unused."""
        read = IcalRead()
        unread: list[str] = []
        for feed in self.feeds:
            try:
                read.extend(self.read_feed(feed))
            except FeedNotFound as exc:
                # One feed gone must not hide the others' events; the sync keeps its last ones.
                read.problems.append(exc.problem())
                unread.append(feed.id)
        problems = tuple(read.problems)
        return Batch(tuple(read.events), problems, {}, complete=True, unread=tuple(unread))

    def read_feed(self, feed: IcsFeed) -> IcalRead:
        """One feed's events and problems; raises when the feed cannot be read at all.

        Raises FeedNotFound when the feed is not there, ConnectorError for other failures.
        """
        text = self.fetch(feed)
        try:
            return read_ical(text, source=SOURCE, calendar_id=feed.id, window=self.window)
        except ValueError as exc:
            detail = f"not an iCalendar feed ({_first_line(exc)}); check the URL or path"
            raise ConnectorError(SYSTEM, f"parse {feed.id}", None, detail) from None

    def fetch(self, feed: IcsFeed) -> bytes:
        """The raw bytes of a feed, from disk or over HTTP under the shared retry policy."""
        if not feed.remote:
            return _read_file(feed)
        url = feed.location
        if url.lower().startswith("webcal://"):
            url = "https://" + url[len("webcal://") :]

        def get() -> bytes:
            response = self.client.get(url, headers={"Accept": "text/calendar, */*;q=0.5"})
            response.raise_for_status()
            return response.content

        try:
            return retrying(SYSTEM, f"GET {feed.id}", get, policy=self.policy)
        except ConnectorError as exc:
            if exc.status not in MISSING_STATUSES:
                raise
            raise FeedNotFound(feed, _not_at_url(exc.status)) from None

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()


def _read_file(feed: IcsFeed) -> bytes:
    path = Path(feed.location).expanduser()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        problem = f"is missing: no such file {path}; fix the path in calendar.calendar_ids"
        raise FeedNotFound(feed, problem) from None
    except OSError as exc:
        raise ConfigError(
            f"ICS feed {feed.id}: cannot read {path} ({exc.strerror}); check its permissions"
        ) from None


def _not_at_url(status: int | str | None) -> str:
    return (
        f"is not at its URL (status {status}); fix the URL in calendar.calendar_ids"
        " or publish the feed again"
    )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or ["unreadable"])[0][:200]
