"""A real SMTP server that writes every message it accepts to an `.eml` file.

The demo sends its alerts here, so a newcomer can open them in any mail reader.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from sandbox.server import free_port


class _WriteEml:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        first = envelope.rcpt_tos[0] if envelope.rcpt_tos else "unknown"
        safe = re.sub(r"[^A-Za-z0-9@._-]+", "_", first)
        (self.folder / f"{self.count:03d}-{safe}.eml").write_bytes(envelope.original_content)
        return "250 Message accepted for delivery"


class Outbox:
    """SMTP on 127.0.0.1; `.url` is the apprise URL that sends to it, `.folder` the .eml files."""

    def __init__(self, folder: Path, sender: str = "launchsync@demo.example") -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.sender = sender
        self._handler = _WriteEml(folder)
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        """Apprise mail URL for this outbox (plain SMTP on loopback, no login)."""
        return f"mailto://127.0.0.1:{self.port}?from={self.sender}"

    def messages(self) -> list[Path]:
        """The .eml files written so far, oldest first."""
        return sorted(self.folder.glob("*.eml"))

    def __enter__(self) -> Outbox:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
