"""Settings, credentials and the API client of the Google Calendar connector.

Credentials, first that applies: a service-account key file, an OAuth user token file,
anonymous credentials for the sandbox (api_endpoint set), else application default
credentials. The scope is the narrowest that works: read-only events unless write-back
is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.auth
import google_auth_httplib2
import httplib2
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from googleapiclient.discovery import build

from models.config import CalendarConfig
from models.dates import Window
from models.errors import ConfigError

READ_SCOPE = "https://www.googleapis.com/auth/calendar.events.readonly"
WRITE_SCOPE = "https://www.googleapis.com/auth/calendar.events"
# A user token granted any of these may read events; only the last two may write them.
READING_SCOPES = frozenset(
    {
        READ_SCOPE,
        "https://www.googleapis.com/auth/calendar.readonly",
        WRITE_SCOPE,
        "https://www.googleapis.com/auth/calendar",
    }
)
WRITING_SCOPES = frozenset({WRITE_SCOPE, "https://www.googleapis.com/auth/calendar"})
PAGE_SIZE = 2500  # the API's largest page: fewest requests per full read


@dataclass(frozen=True)
class GoogleCalendarSettings:
    """What the Google Calendar connector needs to know."""

    calendar_ids: tuple[str, ...]
    api_endpoint: str | None = None  # the sandbox: http://127.0.0.1:PORT/calendar/v3/
    credentials_file: Path | None = None  # service-account key
    token_file: Path | None = None  # OAuth user token (authorized-user JSON)
    write_back: bool = False
    window: Window | None = None
    page_size: int = PAGE_SIZE
    timeout: float = 30.0  # seconds per HTTP request

    @classmethod
    def from_config(cls, config: CalendarConfig) -> GoogleCalendarSettings:
        """The settings of a `calendar:` config section of kind google."""
        return cls(
            calendar_ids=tuple(config.calendar_ids),
            api_endpoint=config.api_endpoint,
            credentials_file=config.credentials_file,
            token_file=config.token_file,
            write_back=config.write_back,
        )

    @property
    def scopes(self) -> tuple[str, ...]:
        """The narrowest OAuth scope for what is configured."""
        return (WRITE_SCOPE,) if self.write_back else (READ_SCOPE,)


def load_credentials(settings: GoogleCalendarSettings) -> Credentials:
    """The credentials the settings name, or a one-line ConfigError saying how to fix them."""
    try:
        if settings.credentials_file is not None:
            return _service_account(settings)
        if settings.token_file is not None:
            return _user_token(settings)
        if settings.api_endpoint is not None:
            return AnonymousCredentials()  # type: ignore[no-untyped-call]
        found, _project = google.auth.default(scopes=settings.scopes)
        return found  # type: ignore[no-any-return]
    except FileNotFoundError as exc:
        raise ConfigError(f"{exc.filename}: no such file; fix calendar.credentials_file") from None
    except DefaultCredentialsError:
        raise ConfigError(
            "no Google credentials found; set calendar.credentials_file or calendar.token_file,"
            " or run `gcloud auth application-default login`"
        ) from None
    except (GoogleAuthError, ValueError, KeyError) as exc:
        raise ConfigError(f"Google credentials could not be read ({exc}); check the file") from None


def _service_account(settings: GoogleCalendarSettings) -> Credentials:
    """A service-account key with the settings' scopes."""
    read = service_account.Credentials.from_service_account_file
    key: Credentials = read(str(settings.credentials_file), scopes=settings.scopes)  # type: ignore[no-untyped-call]
    return key


def _user_token(settings: GoogleCalendarSettings) -> Credentials:
    """An OAuth user token, used with the scopes it was granted (asking more would fail)."""
    assert settings.token_file is not None
    read = user_credentials.Credentials.from_authorized_user_file
    token: Credentials = read(str(settings.token_file))  # type: ignore[no-untyped-call]
    granted = set(getattr(token, "scopes", None) or ())
    wanted = WRITING_SCOPES if settings.write_back else READING_SCOPES
    if granted and not granted & wanted:
        need = WRITE_SCOPE if settings.write_back else READ_SCOPE
        raise ConfigError(
            f"{settings.token_file}: the token was not granted {need}; authorize it again"
        )
    return token


def build_service(settings: GoogleCalendarSettings, credentials: Credentials | None = None) -> Any:
    """The Calendar v3 client from the discovery document shipped with the library."""
    creds = credentials or load_credentials(settings)
    # An explicit Http: httplib2's default has no timeout, and a hung socket hangs the run.
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=settings.timeout))
    options = {"api_endpoint": settings.api_endpoint} if settings.api_endpoint else None
    return build(
        "calendar",
        "v3",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options=options,
    )
