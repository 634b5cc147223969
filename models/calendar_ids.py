"""The id launchsync gives a calendar named by its address, safe to show and to store.

A private feed's address is its password (Google's `.../private-<key>/basic.ics`,
`?token=...`), yet a calendar id travels everywhere: divergence identities, tickets,
alerts, artifacts and the state store. So an address becomes its host and file name,
plus a short hash that tells two feeds on one host apart.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

FEED_FILE_SUFFIXES = (".ics", ".ical")


def calendar_id_of(location: str) -> str:
    """`location` itself unless it is a URL; then `scheme://host/…/file.ics#hash`."""
    if "://" not in location:
        return location
    digest = hashlib.sha256(location.encode()).hexdigest()[:12]
    try:
        parts = urlsplit(location)
    except ValueError:  # a malformed IPv6 host: nothing in it is safe to show
        return f"feed#{digest}"
    host = parts.netloc.rpartition("@")[2]
    name = parts.path.rstrip("/").rpartition("/")[2]
    if not name.lower().endswith(FEED_FILE_SUFFIXES):  # the last segment may be the key
        name = ""
    return f"{parts.scheme}://{host}/…/{name}#{digest}"
