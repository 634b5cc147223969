"""Can an alert channel's server be reached? For `doctor`: connect and greet, never send.

An SMTP server gets the handshake a send starts with (connect, EHLO, STARTTLS when the
URL asks for it, login when it carries credentials) and then QUIT; a webhook host gets a
bare TCP connect, since any HTTP request to it might be taken as an alert.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass

from pydantic import SecretStr

from models.errors import ConnectorError

TIMEOUT_SECONDS = 5.0
LOGIN_REFUSED = frozenset({530, 534, 535})


@dataclass(frozen=True)
class SmtpServer:
    """Where and how the notifier sends e-mail, as apprise resolved the `alerts.smtp` URL."""

    host: str
    port: int
    mode: str  # apprise's secure mode: "insecure", "starttls" or "ssl"
    user: str | None = None
    password: SecretStr | None = None
    verify: bool = True


def greet_smtp(server: SmtpServer, timeout: float = TIMEOUT_SECONDS) -> str:
    """Connect, EHLO (STARTTLS, login when configured) and quit; ConnectorError if refused."""
    context = ssl.create_default_context()
    if not server.verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        if server.mode == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if server.mode == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if server.user and server.password is not None:
                smtp.login(server.user, server.password.get_secret_value())
                return "SMTP server answered and accepted the login (nothing sent)"
            return "SMTP server answered EHLO (nothing sent)"
    except smtplib.SMTPAuthenticationError as exc:
        raise ConnectorError("email", "login", f"smtp {exc.smtp_code}") from None
    except smtplib.SMTPResponseException as exc:
        status = f"smtp {exc.smtp_code}"
        login = exc.smtp_code in LOGIN_REFUSED
        raise ConnectorError("email", "login" if login else "connect", status) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise ConnectorError("email", "connect", _network_reason(exc)) from None


def connect_tcp(host: str, port: int, timeout: float = TIMEOUT_SECONDS) -> str:
    """Open and close a TCP connection; ConnectorError naming why it failed."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return f"{host}:{port} accepts connections (nothing sent)"
    except OSError as exc:
        raise ConnectorError("webhook", "connect", _network_reason(exc)) from None


def _network_reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, ssl.SSLError):
        return "TLS failed"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "connection closed"
    return type(exc).__name__
