"""Alerts out through apprise: e-mail (SMTP), Slack, Microsoft Teams and generic webhooks.

A target is an e-mail address (sent through the configured `mailto://` / `mailtos://` SMTP
URL, the recipient added) or an apprise URL: `slack://…` or `https://hooks.slack.com/…`,
a Teams workflow URL (`https://….logic.azure.com/workflows/…` or `workflows://…`),
`json://host:port/path` (or a plain `https://…` URL, sent as JSON).

Why apprise itself and not Prefect's notification blocks: `SlackWebhook` and
`MicrosoftTeamsWebhook` only build this same apprise client, but they swallow failures unless
used inside `raise_on_failure()`, report them as free log text, have no SMTP or json://
block, and their `notify` is async-dispatched (a coroutine when called from async code).
Apprise directly gives one code path for every channel and the plugin object, on which we
turn apprise's own blind retries off so the shared policy (connectors/retry.py) decides.

Apprise returns only True/False; what failed is in its log records. `_AppriseTap` hears
them (debug included) for the sending thread, so a failure is classified for the policy —
a send is not idempotent, so only a 429 or a refused connection is retried — and masks the
target's tokens and password in whatever apprise logs on to the application's handlers.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import apprise
from pydantic import SecretStr

from connectors import email_text
from connectors.base import Alert
from connectors.channels import WEBHOOK_SCHEMES, channel_kind
from connectors.reachability import SmtpServer, connect_tcp, greet_smtp
from connectors.retry import RetryPolicy, retrying
from models.config import AlertsConfig
from models.errors import ConnectorError

email_text.install()  # e-mail text parts keep link addresses (connectors/email_text.py)
log = logging.getLogger("launchsync.notify")
APPRISE_LOG = logging.getLogger("apprise")
# Not async: apprise must send in the calling thread, where _AppriseTap listens.
ASSET = apprise.AppriseAsset(app_id="launchsync", app_desc="launchsync alerts", async_mode=False)
NOTIFY_TYPES = {"critical": apprise.NotifyType.FAILURE, "warning": apprise.NotifyType.WARNING}
# Schemes whose "host" is a real host; in every other apprise scheme it is a token.
HOST_SCHEMES = WEBHOOK_SCHEMES | {"http", "https", "mailto", "mailtos", "workflow", "workflows"}
PUBLIC_QUERY_KEYS = frozenset({"to", "from", "cc", "bcc", "name", "format", "method", "verify"})
MIN_TOKEN = 6  # path segments and query values this long may be tokens; shorter are names

HTTP_STATUS = re.compile(r"error=(\d{3})\b")
SMTP_REPLY = re.compile(r"Socket Exception: \((\d{3}),")
REFUSED = re.compile(r"connection refused|actively refused|errno 111\b|errno 61\b", re.I)
TIMED_OUT = re.compile(r"timed? ?out", re.I)
MD_LINK = re.compile(r"\[([^\]\n]+)\]\((\S+?)\)")
MD_BOLD = re.compile(r"\*\*(.+?)\*\*")


def target_secrets(url: str) -> set[str]:
    """The parts of a target URL that may be credentials: password, tokens, signatures."""
    parts = urlsplit(url)
    found = {parts.password or "", unquote(parts.password or "")}
    if parts.scheme.lower() not in HOST_SCHEMES:
        # Raw netloc: `.hostname` is lower-cased, and tokens are case-sensitive.
        user, _, host = parts.netloc.rpartition("@")
        found |= {host.partition(":")[0], user.partition(":")[0]}
    found |= {unquote(s) for s in parts.path.split("/") if len(s) >= MIN_TOKEN}
    found |= {
        v for k, v in parse_qsl(parts.query) if k not in PUBLIC_QUERY_KEYS and len(v) >= MIN_TOKEN
    }
    return {s for s in found if s}


def slack_mrkdwn(markdown: str) -> str:
    """Slack's mrkdwn spells links `<url|text>` and bold `*text*`."""
    return MD_BOLD.sub(r"*\1*", MD_LINK.sub(r"<\2|\1>", markdown))


class AlertDeliveryError(ConnectorError):
    """Some targets of an alert failed after retries; `delivered` got it, `failed` did not."""

    def __init__(
        self, failures: Sequence[tuple[str, ConnectorError]], delivered: Sequence[str]
    ) -> None:
        first = failures[0][1]
        super().__init__(first.system, first.call, first.status)
        total = len(failures) + len(delivered)
        kinds = ", ".join(dict.fromkeys(error.system for _, error in failures))
        text = str(first) if total == 1 else f"{first}; {len(failures)} of {total} failed ({kinds})"
        self.args = (text,)
        self.failed = tuple(target for target, _ in failures)
        self.delivered = tuple(delivered)


class _SendFailed(Exception):
    """Apprise said no; `status_code` (HTTP) lets the shared policy classify it."""

    def __init__(self, status_code: int | None, label: str | None = None) -> None:
        super().__init__(label or status_code)
        self.status_code = status_code
        self.label = label


class AppriseNotifier:
    """connectors.base.Notifier over apprise: each alert once per target."""

    def __init__(
        self,
        smtp: SecretStr | str | None = None,
        *,
        policy: RetryPolicy | None = None,
        slack_webhook_base: str | None = None,
    ) -> None:
        # `slack_webhook_base` replaces https://hooks.slack.com/services (a proxy, a test
        # receiver) the way Prefect's SlackWebhook block re-points GovCloud webhooks.
        self._smtp = smtp if isinstance(smtp, SecretStr) or smtp is None else SecretStr(smtp)
        self._policy = policy
        self._slack_base = slack_webhook_base.rstrip("/") if slack_webhook_base else None

    @classmethod
    def from_config(cls, config: AlertsConfig, **options: Any) -> AppriseNotifier:
        """A notifier sending e-mail through `alerts.smtp`."""
        return cls(config.smtp, **options)

    def send(self, alert: Alert) -> None:
        """Deliver to every recipient once; raise AlertDeliveryError naming failed channels."""
        failures: list[tuple[str, ConnectorError]] = []
        delivered: list[str] = []
        for target in dict.fromkeys(r.strip() for r in alert.recipients if r.strip()):
            try:
                self._deliver(target, alert)
            except ConnectorError as exc:
                log.warning("alert %s: %s", alert.key, exc)
                failures.append((target, exc))
            else:
                log.info("alert %s sent by %s", alert.key, channel_kind(target))
                delivered.append(target)
        if failures:
            raise AlertDeliveryError(failures, delivered)

    def problem_with(self, target: str) -> str | None:
        """Why a target cannot be sent to (for `doctor`), or None; does no I/O."""
        try:
            with _AppriseTap(self._secrets(target)):
                self._client(target, channel_kind(target))
        except ConnectorError as exc:
            return str(exc)
        return None

    def address(self, target: str) -> tuple[str, int] | None:
        """The host and port a send to this target connects to, None if apprise hides it."""
        plugin = self._plugin(target)
        if channel_kind(target) == "email":
            return str(plugin.smtp_host), int(plugin.port)
        if isinstance(getattr(plugin, "webhook_url", None), str):  # Slack's webhook mode
            parts = urlsplit(plugin.webhook_url)
            return parts.hostname or "", parts.port or 443
        if urlsplit(target).scheme.lower() in HOST_SCHEMES and getattr(plugin, "host", None):
            return str(plugin.host), int(plugin.port or (443 if plugin.secure else 80))
        return None

    def reach(self, target: str) -> str:
        """Connect to the target's server without sending (for `doctor`); raise if refused."""
        address = self.address(target)
        if address is None:
            return "target looks valid (its server is not known to check)"
        if channel_kind(target) != "email":
            return connect_tcp(*address)
        plugin = self._plugin(target)
        password = SecretStr(plugin.password) if plugin.password else None
        mode, verify = str(plugin.secure_mode), bool(plugin.verify_certificate)
        return greet_smtp(SmtpServer(*address, mode, plugin.user, password, verify))

    def _plugin(self, target: str) -> Any:
        with _AppriseTap(self._secrets(target)):
            return self._client(target, channel_kind(target))[0]

    def _deliver(self, target: str, alert: Alert) -> None:
        kind = channel_kind(target)
        body = slack_mrkdwn(alert.body) if kind == "slack" else alert.body

        def attempt() -> None:
            with _AppriseTap(self._secrets(target)) as tap:
                sent = self._client(target, kind).notify(
                    body=body,
                    title=alert.subject,
                    notify_type=NOTIFY_TYPES.get(alert.severity, apprise.NotifyType.INFO),
                    body_format=apprise.NotifyFormat.MARKDOWN,
                )
            if not sent:
                raise _failure(tap.lines)

        try:
            retrying(kind, "send", attempt, policy=self._policy, idempotent=False)
        except _SendFailed as exc:
            raise ConnectorError(kind, "send", exc.label, _hint(kind, exc.label)) from None

    def _client(self, target: str, kind: str) -> apprise.Apprise:
        url = self._url(target, kind)
        plugin = apprise.Apprise.instantiate(url, asset=ASSET)
        if plugin is None and urlsplit(url).scheme.lower() in ("http", "https"):
            plugin = apprise.Apprise.instantiate("json" + url.removeprefix("http"), asset=ASSET)
        if plugin is None:
            hint = "not an apprise URL apprise understands; check its scheme and tokens"
            if kind == "teams" and target.lower().startswith("msteams://"):
                hint = "Office 365 connectors (msteams://) are retired; use a Teams workflow URL"
            raise ConnectorError(kind, "send", None, hint)
        plugin.retry = 0  # one retry policy, ours: apprise's would resend blindly
        if self._slack_base and kind == "slack":
            plugin.webhook_url = self._slack_base
        client = apprise.Apprise(asset=ASSET)
        client.add(plugin)
        return client

    def _url(self, target: str, kind: str) -> str:
        if "://" in target:
            return target
        if kind != "email" or "@" not in target:
            raise ConnectorError(kind, "send", None, "a target is an e-mail address or a URL")
        if self._smtp is None:
            raise ConnectorError("email", "send", None, "no SMTP server; set alerts.smtp")
        parts = urlsplit(self._smtp.get_secret_value())
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "to"] + [("to", target)]
        # The path could name more recipients; an alert goes to exactly this one.
        return urlunsplit(parts._replace(path="", query=urlencode(query)))

    def _secrets(self, target: str) -> set[str]:
        found = target_secrets(target) if "://" in target else set()
        if self._smtp is not None:
            found |= target_secrets(self._smtp.get_secret_value())
        return found


def _failure(lines: Iterable[str]) -> Exception:
    """What apprise's log lines say went wrong, as an exception the shared policy classifies."""
    said = list(lines)
    if status := HTTP_STATUS.search("\n".join(said)):
        return _SendFailed(int(status.group(1)), status.group(1))
    errors = "\n".join(line for line in said if "Exception" in line)
    if reply := SMTP_REPLY.search(errors):
        return _SendFailed(None, f"smtp {reply.group(1)}")
    if REFUSED.search(errors):
        return ConnectionRefusedError("connection refused")  # nothing was sent: safe to retry
    if TIMED_OUT.search(errors):
        return TimeoutError("timeout")  # may have arrived: not retried
    return _SendFailed(None, "refused")


def _hint(kind: str, label: str | None) -> str:
    if label in ("smtp 530", "smtp 534", "smtp 535"):
        return "the SMTP server refused the login; check the user and password in alerts.smtp"
    if label and label.startswith("smtp "):
        return "the SMTP server refused the message; check the sender and the recipient"
    return f"the {kind} service did not accept the alert; check the target URL and its token"


class _AppriseTap(logging.Filter):
    """For one send: hears apprise's records from this thread (debug included) and masks the
    target's secrets in every record that goes on to the application's handlers."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _active: ClassVar[int] = 0
    _restore_level: ClassVar[int] = logging.NOTSET
    _passing_level: ClassVar[int] = logging.WARNING  # what the application asked to see

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._thread = threading.get_ident()
        self._secrets = sorted(set(secrets), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep this thread's lines; pass on only what was enabled before, masked."""
        text = record.getMessage()
        if record.thread == self._thread:
            self.lines.append(text)
        if record.levelno < _AppriseTap._passing_level:
            return False
        masked = text
        for secret in self._secrets:
            masked = masked.replace(secret, "***")
        if masked != text:
            record.msg, record.args = masked, None
        return True

    def __enter__(self) -> _AppriseTap:
        cls = _AppriseTap
        with cls._lock:
            # Concurrent sends share one level change: the first saves it, the last restores.
            if cls._active == 0:
                cls._restore_level = APPRISE_LOG.level
                cls._passing_level = APPRISE_LOG.getEffectiveLevel()
                APPRISE_LOG.setLevel(logging.DEBUG)
            cls._active += 1
        APPRISE_LOG.addFilter(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        APPRISE_LOG.removeFilter(self)
        cls = _AppriseTap
        with cls._lock:
            cls._active -= 1
            if cls._active == 0:
                APPRISE_LOG.setLevel(cls._restore_level)
