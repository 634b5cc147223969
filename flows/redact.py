"""Keep secrets out of logs, artifacts, errors and alerts.

Prefect redacts only its own API key. Every secret launchsync knows — SecretStr fields of
the config and every value expanded from the environment — is masked wherever text leaves
the process: a logging filter on Prefect's and launchsync's loggers, and `redact()` for
artifacts, alert bodies and error lines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, SecretStr

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words
LOGGERS = ("prefect", "launchsync", "httpx", "urllib3", "jira", "googleapiclient", "apprise")


class Redactor(logging.Filter):
    """Masks known secret values in text and in log records."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Learn more secret values."""
        self._secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
        # Longest first, so a secret containing another is masked whole.
        self._ordered = sorted(self._secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask secrets in a log record's message and arguments before any handler sees it."""
        if self._ordered:
            record.msg = self(record.getMessage())
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True

    def install(self) -> None:
        """Attach to every logging handler (idempotent).

        Handler filters see records propagated from child loggers; logger filters do not.
        """
        loggers = [logging.getLogger(), *(logging.getLogger(n) for n in LOGGERS)]
        loggers += [
            v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger)
        ]
        for logger in loggers:
            for handler in logger.handlers:
                if self not in handler.filters:
                    handler.addFilter(self)
        for name in LOGGERS:
            if self not in logging.getLogger(name).filters:
                logging.getLogger(name).addFilter(self)


def secrets_of(model: BaseModel) -> list[str]:
    """Every SecretStr value inside a (nested) pydantic model."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for field in type(value).model_fields:
                walk(getattr(value, field))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(model)
    return found
