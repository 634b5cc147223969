"""The plain-text part of an alert e-mail, with every link's address kept: `OPS-42 <url>`.

Apprise's e-mail plugin renders the markdown body to HTML and derives the text/plain part
from that HTML with `apprise.conversion.html_to_text`, which drops every `href`: a reader
of the plain part saw `Ticket: OPS-42` and no way to open it. The plugin offers no hook
for that part, so `install()` puts in apprise's own converter extended to keep link
addresses. Only HTML-to-text conversions use it, and launchsync never hands apprise HTML:
in practice it changes the e-mail text part alone; the HTML part is untouched.
tests/connectors/test_notify.py checks the plain part over real SMTP, so an apprise
upgrade that moves the converter fails a test rather than the links going quietly.
"""

from __future__ import annotations

from typing import Any

import apprise.conversion
from apprise.conversion import HTMLConverter


class _LinkKeepingConverter(HTMLConverter):  # type: ignore[misc]  # apprise is untyped
    """Apprise's HTML-to-text converter, but `<a href="url">text</a>` becomes `text <url>`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._links: list[tuple[str, list[str]]] = []  # open anchors: href, text so far

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Remember where a link goes; apprise handles the rest."""
        super().handle_starttag(tag, attrs)
        if tag == "a":
            self._links.append((dict(attrs).get("href") or "", []))

    def handle_data(self, data: str, *args: Any, **kwargs: Any) -> None:
        """Keep the text, and note it as a link's text inside an anchor."""
        super().handle_data(data, *args, **kwargs)
        if self._links:
            self._links[-1][1].append(data)

    def handle_endtag(self, tag: str) -> None:
        """After a link's text, its address, unless the text already is the address."""
        if tag == "a" and self._links:
            href, text = self._links.pop()
            shown = "".join(text).strip()
            if href and shown not in (href, href.removeprefix("mailto:")):
                super().handle_data(f" <{href}>")
        super().handle_endtag(tag)


def html_to_text_keeping_links(html: str) -> str:
    """Apprise's plain-text rendering of HTML, with `text <url>` for every link."""
    parser = _LinkKeepingConverter()
    parser.feed(html)
    parser.close()
    return str(parser.converted)


def install() -> None:
    """Make apprise derive e-mail text parts with link addresses kept (idempotent)."""
    apprise.conversion.html_to_text = html_to_text_keeping_links
