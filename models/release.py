"""Releases: what engineering ships, as Jira versions or issues."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ReleaseKind(StrEnum):
    VERSION = "version"
    ISSUE = "issue"


class Release(BaseModel):
    """A Jira version or issue with its (business-zone) release date.

    `id` is unique across kinds: a version's numeric id, or an issue's key (`PROJ-12`),
    which is also what calendar links name.
    """

    model_config = ConfigDict(frozen=True)

    source: str = "jira"
    kind: ReleaseKind
    id: str
    key: str
    name: str
    project: str
    date: dt.date | None = None
    released: bool = False
    archived: bool = False
    url: str | None = None
    owner: str | None = None
    updated: dt.datetime | None = None

    @property
    def label(self) -> str:
        """How a person names this release: `PROJ 2.4` or `PROJ-12 Summary`."""
        return f"{self.key} {self.name}"
