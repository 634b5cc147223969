"""The two paginators Jira needs (and Google's token pages fit the second), with loop detection.

A page function takes the position to read (an offset, or a token) and returns the parsed
page; each strategy yields the items of each page and stops on the API's own end marker.
A server that hands back a position already read raises instead of looping forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from models.errors import ConnectorError

Page = Mapping[str, Any]


def offset_pages(
    fetch: Callable[[int], Page], items_key: str, system: str, call: str
) -> Iterator[Sequence[Any]]:
    """Pages of a `startAt` API (PageBean `isLast`, or search's `total`)."""
    start = 0
    while True:
        page = fetch(start)
        items = page.get(items_key) or []
        yield items
        start += len(items)
        total = page.get("total")
        if page.get("isLast") is True or not items:
            return
        if page.get("isLast") is None and isinstance(total, int) and start >= total:
            return
        if int(page.get("startAt", start - len(items))) + len(items) != start:
            raise ConnectorError(system, call, None, "the server repeated a page; try again later")


def token_pages(
    fetch: Callable[[str | None], Page], items_key: str, system: str, call: str
) -> Iterator[Sequence[Any]]:
    """Pages of a `nextPageToken` API."""
    token: str | None = None
    seen: set[str] = set()
    while True:
        page = fetch(token)
        yield page.get(items_key) or []
        token = page.get("nextPageToken")
        if not token or page.get("isLast") is True:
            return
        if token in seen:
            raise ConnectorError(system, call, None, "the server repeated a page token; try again")
        seen.add(token)
