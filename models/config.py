"""The config file (contract 4): validated by pydantic, unknown keys are errors, ${ENV} expands.

Every error is one line naming the file, the key and the fix; secret values never appear.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from models.calendar_ids import calendar_id_of
from models.config_secrets import BLOCK_FIX, refuse_written_secrets, secret_keys
from models.dates import zone
from models.errors import ConfigError, one_line
from models.policy import Policy

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")
MIN_REDACTED = 6  # shorter ${ENV} values (ports, flags) are no secrets and read as themselves
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Section(BaseModel):
    # Attribute docstrings become field descriptions: the config reference is generated.
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class TicketConfig(_Section):
    """Where divergence tickets go."""

    project: str | None = None
    """Project key tickets open in; default: the first of `jira.projects`."""
    issue_type: str = "Task"
    """Issue type of divergence tickets."""
    done_status: str = "Done"
    """Status (or transition name) that closes a ticket when dates align again."""
    labels: tuple[str, ...] = ("launchsync",)
    """Labels put on every ticket (plus a per-divergence marker label)."""


class JiraConfig(_Section):
    """Jira Cloud (email + api_token) or Server/Data Center (token, a personal access token)."""

    url: str
    """Base URL of Jira Cloud or Server/Data Center."""
    email: str | None = None
    """Cloud: the account e-mail used with `api_token`."""
    api_token: SecretStr | None = None
    """Cloud: an API token; use `${JIRA_API_TOKEN}`."""
    token: SecretStr | None = None
    """Server/Data Center: a personal access token; use `${JIRA_PAT}`."""
    projects: tuple[str, ...] = ()
    """Project keys whose versions are releases."""
    issue_jql: str | None = None
    """Issues matching this JQL are releases too."""
    date_field: str = "duedate"
    """Date field of those issues: `duedate`, a custom field id or its name."""
    tickets: TicketConfig = TicketConfig()
    """Where divergence tickets go."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^\s/]+", url):
            raise ValueError("must be an http(s) URL such as https://example.atlassian.net")
        if "@" in url.split("://", 1)[1].split("/", 1)[0]:
            # Ticket links are built on it and go out in every alert.
            raise ValueError(
                "must not hold a user or password; give them as jira.email and jira.api_token "
                "(or jira.token)"
            )
        return url.rstrip("/")

    @field_validator("projects")
    @classmethod
    def _project_keys(cls, projects: tuple[str, ...]) -> tuple[str, ...]:
        for key in projects:
            if not PROJECT_KEY.match(key):
                raise ValueError(f"{key!r} is not a Jira project key; use upper case like PROJ")
        return projects

    @field_validator("date_field")
    @classmethod
    def _field_id(cls, field: str) -> str:
        if not field.strip():
            raise ValueError("must be a field id (duedate, customfield_10015) or a field name")
        return field

    @model_validator(mode="after")
    def _auth_and_scope(self) -> JiraConfig:
        if bool(self.email) != bool(self.api_token):
            raise ValueError("Cloud needs both email and api_token (Server/DC: token only)")
        if not self.projects and not self.issue_jql:
            raise ValueError("set projects (their versions are releases) or issue_jql")
        return self

    @property
    def ticket_project(self) -> str | None:
        """The project tickets open in: tickets.project, else the first configured project."""
        return self.tickets.project or (self.projects[0] if self.projects else None)


class CalendarConfig(_Section):
    """The marketing calendar: Google Calendar, a CalDAV server, or ICS feeds."""

    kind: Literal["google", "caldav", "ics"] = "google"
    """`google`, `caldav` or `ics`."""
    calendar_ids: tuple[str, ...] = Field(min_length=1)
    """Google calendar ids, CalDAV calendar names/URLs, or ICS feed URLs/paths."""
    api_endpoint: str | None = None
    """Google only: set for the sandbox emulator."""
    credentials_file: Path | None = None
    """Google: a service-account key file (else application default credentials)."""
    token_file: Path | None = None
    """Google: an OAuth user token file."""
    url: str | None = None
    """CalDAV server URL."""
    username: str | None = None
    """CalDAV user name."""
    password: SecretStr | None = None
    """CalDAV password; use `${CALDAV_PASSWORD}`."""
    write_back: bool = False
    """Google only: move an event with its slipped release, else mark it tentative."""

    @model_validator(mode="after")
    def _kind_needs(self) -> CalendarConfig:
        if self.kind == "caldav" and not self.url:
            raise ValueError("kind caldav needs url: the CalDAV server's address")
        if self.write_back and self.kind != "google":
            raise ValueError("write_back works only with kind google")
        return self


class RouteConfig(_Section):
    """Who hears about divergences matching all of the given filters (empty = any)."""

    projects: tuple[str, ...] = ()
    """Only releases of these projects."""
    event_types: tuple[str, ...] = ()
    """Only these event types (blog, webinar, email, event, ...)."""
    calendars: tuple[str, ...] = ()
    """Only events of these calendars (an ICS feed by its address or its id)."""
    notify: tuple[str, ...] = Field(min_length=1)
    """E-mail addresses or apprise URLs."""

    @field_validator("calendars")
    @classmethod
    def _as_calendar_ids(cls, calendars: tuple[str, ...]) -> tuple[str, ...]:
        # Events carry a feed's safe id, never its address (which may be its password).
        return tuple(calendar_id_of(c) for c in calendars)


class AlertsConfig(_Section):
    """Where alerts go. Targets are e-mail addresses (sent through `smtp`) or apprise URLs
    (`slack://…`, Teams workflow URLs / `workflows://…`, `json://…`); keep tokens in ${ENV}."""

    smtp: SecretStr | None = None
    """Apprise mail URL for e-mail targets (`mailtos://user:pass@host:587?from=...`);
    use `${SMTP_URL}`, or `${SMTP_PASSWORD}` in place of its password."""
    routes: tuple[RouteConfig, ...] = ()
    """Routing rules: `{projects, event_types, calendars, notify}`."""
    fallback_to_owners: bool = True
    """With no matching route, alert the event organizer and release assignee or lead."""
    digest: bool = True
    """Warnings go into one daily digest per recipient list; critical ones go at once."""
    digest_hour: int = Field(9, ge=0, le=23)
    """Hour (business time zone) from which the day's digest is sent; later ones wait."""
    operators: tuple[str, ...] = ()
    """Who hears when a sync fails or crashes."""


class WebhooksConfig(_Section):
    """The receiver for Jira webhooks and Google push notifications (`launchsync webhooks`)."""

    jira_secret: SecretStr | None = None
    """The Jira webhook's secret (X-Hub-Signature HMAC); use `${JIRA_WEBHOOK_SECRET}`."""
    google_token: SecretStr | None = None
    """The channel token launchsync's Google watch channels carry; use `${GOOGLE_CHANNEL_TOKEN}`."""
    host: str = "127.0.0.1"
    """Address the receiver listens on."""
    port: int = Field(8787, ge=1, le=65535)
    """Port the receiver listens on."""
    max_body_bytes: int = Field(512 * 1024, ge=1024)
    """Larger bodies are refused with 413."""
    public_url: str | None = None
    """Where Google reaches the receiver (`https://…`); with `google_token`, the watchdog
    opens and renews push channels to `<public_url>/webhooks/google`."""


class FreshnessConfig(_Section):
    """When launchsync calls itself blind: it then marks launches `unknown`, holds back
    tickets and alerts, and tells the operators."""

    stale_after_minutes: int = Field(120, ge=1, le=60 * 24 * 30)
    """A source not read successfully for this long (or no successful sync) is stale."""
    failed_runs: int = Field(3, ge=1, le=1000)
    """This many failed reads of a source in a row make launchsync blind to it."""
    channel_renew_hours: int = Field(24, ge=1, le=24 * 30)
    """The watchdog renews a Google push channel this long before it expires."""
    webhook_silence_minutes: int = Field(30, ge=1, le=60 * 24 * 30)
    """Webhooks count as stopped when a sync sees a change this much newer than the last one."""


class ReportConfig(_Section):
    """The launch timeline report written after each sync."""

    html: Path | None = None
    """Write the timeline as a standalone HTML page here (else only a Prefect artifact)."""


class StateConfig(_Section):
    """Where launchsync remembers cursors, slips, tickets and alerts."""

    url: str = "sqlite:///launchsync.db"
    """SQLAlchemy URL: SQLite file by default, `postgresql+psycopg://...` for teams."""


class Config(_Section):
    """A whole launchsync config file."""

    timezone: str = "UTC"
    """Business time zone for every date comparison (IANA name)."""
    jira: JiraConfig
    """Where releases come from and tickets go."""
    calendar: CalendarConfig
    """The marketing calendar."""
    policy: Policy = Policy()
    """When a launch is where it should be."""
    alerts: AlertsConfig = AlertsConfig()
    """Who hears about divergences."""
    webhooks: WebhooksConfig = WebhooksConfig()
    """The webhook receiver."""
    freshness: FreshnessConfig = FreshnessConfig()
    """When launchsync calls itself blind."""
    report: ReportConfig = ReportConfig()
    """The launch timeline report."""
    state: StateConfig = StateConfig()
    """Where launchsync remembers what it saw and did."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zone(name)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return name


SECRET_KEYS = secret_keys(Config)  # key path -> the ${VAR} an error suggests


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader without `*alias` references: a config needs none, and a few lines of
    nested aliases (a "billion laughs") would expand to gigabytes once ${VARS} are filled."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed; write the value out", event.start_mark
            )
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


def load_config(path: Path | str, environ: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate a config file; raise one ConfigError naming what to fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; create it or pass --config PATH") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    return parse_config(text, str(path), os.environ if environ is None else environ)


def parse_config(
    text: str, source: str, environ: Mapping[str, str], *, text_is_secret: bool = False
) -> Config:
    """Validate config YAML text; `source` names it in errors.

    `text_is_secret`: the text came from a Prefect Secret block, so it may hold secrets.
    """
    try:
        raw = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader)
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: must be a mapping with timezone, jira and calendar keys")
        if not text_is_secret:
            refuse_written_secrets(raw, SECRET_KEYS, source)
        expanded = _expand(raw, environ, source, ())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}:{where} {problem}; fix the YAML syntax") from None
    except RecursionError:  # fuzz-found: "[[[[..." thousands deep was a traceback
        raise ConfigError(f"{source}: nested too deeply; a config is a few levels deep") from None
    try:
        return Config.model_validate(expanded)
    except ValidationError as exc:
        message = "; ".join(_describe(e) for e in exc.errors())
        # Fuzz-found: `timezone: ${JIRA_API_TOKEN}` echoed the token in the error.
        for name in ENV_REF.findall(text):
            value = environ.get(name[0], "")
            if len(value) >= MIN_REDACTED:
                message = message.replace(value, "***")
        raise ConfigError(f"{source}: {message}") from None


def _expand(value: Any, environ: Mapping[str, str], source: str, at: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        for key in value:
            _check_text(key, source, (*at, str(key)))
        return {k: _expand(v, environ, source, (*at, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, environ, source, (*at, str(i))) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    _check_text(value, source, at)

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        fix = BLOCK_FIX if at in SECRET_KEYS else "or write the value in the file"
        raise ConfigError(
            f"{source}: {'.'.join(at)}: environment variable {name} is not set; export {name} {fix}"
        )

    return ENV_REF.sub(substitute, value)


def _check_text(value: object, source: str, at: tuple[str, ...]) -> None:
    # Fuzz-found: YAML's "\ud800" escape yields a lone surrogate, which pydantic then
    # reported as "(top level)" without naming the key that held it.
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            where = one_line(".".join(at), 120) or "(top level)"
            raise ConfigError(
                f"{source}: {where}: not valid Unicode text (a lone surrogate escape); "
                "write the character itself or remove it"
            ) from None


def _describe(error: Mapping[str, Any]) -> str:
    """One validation error as `key.path: what is wrong` — never the input value."""
    # one_line (fuzz-found): a key with a newline or NUL in it broke the one-line message.
    where = one_line(".".join(str(part) for part in error["loc"]), 120) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key; remove it or check its spelling"
    if error["type"] == "missing":
        return f"{where}: required; add it"
    message = one_line(str(error["msg"]).removeprefix("Value error, "), 240)
    return f"{where}: {message}"
