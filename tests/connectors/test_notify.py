"""Alerts delivered over real sockets: SMTP (aiosmtpd) and HTTP(S) receivers."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from pydantic import SecretStr

from connectors.alerts import Slip, alert_for
from connectors.base import Alert
from connectors.channels import channel_kind
from connectors.notify import AlertDeliveryError, AppriseNotifier, target_secrets
from connectors.retry import RetryPolicy
from models.config import AlertsConfig
from models.errors import ConnectorError
from sandbox.server import free_port
from tests.connectors.test_alerts import EVENT_URL, RELEASE_URL, TICKET_URL, atl
from tests.factories import day
from tests.fixtures.receivers import SENDER, SMTP_PASSWORD, SMTP_USER, HttpReceiver, SmtpServer

pytestmark = [
    pytest.mark.filterwarnings("ignore:Unverified HTTPS request"),  # the receiver self-signs
    pytest.mark.filterwarnings("ignore:.imghdr. is deprecated:DeprecationWarning"),  # apprise
]

FAST = RetryPolicy(attempts=3, base_wait=0, max_wait=0, deadline=30, sleep=lambda _: None)
SLACK_TOKENS = "T0LAUNCH1/B0SYNC0001/xoxSecretHookToken42"
TEAMS_SIGNATURE = "SiGnAtUrE-very-secret-0042"


def critical_alert(*recipients: str) -> Alert:
    """The alert of ATL 2.1's launch post, 7 days before the release, moved by Ana."""
    d = atl(day(10))
    moved = Slip("10001", "ATL 2.1", day(3), day(10), "Ana Lopez", dt.datetime(2026, 11, 20, 14, 3))
    return alert_for(d, recipients, moved, TICKET_URL)


def notifier(smtp: str | None = None, **options: object) -> AppriseNotifier:
    return AppriseNotifier(smtp, policy=FAST, **options)  # type: ignore[arg-type]


# --- e-mail -----------------------------------------------------------------------------


def test_an_email_alert_arrives_with_recipient_subject_and_body(smtp_server: SmtpServer) -> None:
    alert = critical_alert("pm@example.com")
    notifier(smtp_server.url).send(alert)
    (mail,) = smtp_server.messages
    assert mail.rcpt_tos == ("pm@example.com",)
    assert mail.to == "pm@example.com"
    assert mail.mail_from == SENDER
    assert mail.login == SMTP_USER
    assert mail.subject == alert.subject
    assert "ATL 2.1 moved from" in mail.text and "by Ana Lopez" in mail.text
    assert f'href="{TICKET_URL}"' in mail.html


def test_the_plain_text_part_of_an_email_keeps_every_link_address(
    smtp_server: SmtpServer,
) -> None:
    notifier(smtp_server.url).send(critical_alert("pm@example.com"))
    (mail,) = smtp_server.messages
    assert f"Ticket: OPS-42 <{TICKET_URL}>" in mail.text
    assert f"Jira release: ATL 2.1 <{RELEASE_URL}>" in mail.text
    assert f"Calendar event: ATL 2.1 launch blog post <{EVENT_URL}>" in mail.text
    # The HTML part still shows link text, the address behind it.
    assert f'<a href="{TICKET_URL}">OPS-42</a>' in mail.html


def test_each_target_gets_an_alert_once(smtp_server: SmtpServer) -> None:
    alert = critical_alert("pm@example.com", "lead@example.com", "pm@example.com ")
    notifier(smtp_server.url).send(alert)
    assert sorted(m.rcpt_tos for m in smtp_server.messages) == [
        ("lead@example.com",),
        ("pm@example.com",),
    ]


def test_the_smtp_url_comes_from_the_alerts_config(smtp_server: SmtpServer) -> None:
    config = AlertsConfig(smtp=SecretStr(smtp_server.url))
    AppriseNotifier.from_config(config, policy=FAST).send(critical_alert("pm@example.com"))
    assert [m.rcpt_tos for m in smtp_server.messages] == [("pm@example.com",)]


def test_a_dead_smtp_server_is_retried_then_named_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = f"mailto://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{free_port()}?from={SENDER}"
    with pytest.raises(ConnectorError) as raised:
        notifier(dead).send(critical_alert("pm@example.com"))
    assert str(raised.value).startswith("email send failed (last status connection refused)")
    assert raised.value.system == "email"
    assert SMTP_PASSWORD not in str(raised.value) + repr(raised.value.__dict__)
    assert SMTP_PASSWORD not in caplog.text
    assert caplog.text.count("email send: connection refused, retrying") == FAST.attempts - 1


def test_a_refused_login_is_not_retried_and_says_what_to_check(smtp_server: SmtpServer) -> None:
    wrong = smtp_server.url.replace(SMTP_PASSWORD, "not-the-password-123")
    with pytest.raises(ConnectorError, match=r"email send failed \(last status smtp 535\)") as e:
        notifier(wrong).send(critical_alert("pm@example.com"))
    assert "check the user and password" in str(e.value)
    assert "not-the-password-123" not in str(e.value)
    assert smtp_server.messages == []


def test_an_email_target_without_smtp_configured_is_a_connector_error() -> None:
    with pytest.raises(ConnectorError, match=r"no SMTP server; set alerts\.smtp"):
        AppriseNotifier().send(critical_alert("pm@example.com"))


# --- Slack, Teams, webhooks -------------------------------------------------------------


def test_a_slack_alert_posts_mrkdwn_to_the_webhook(http_receiver: HttpReceiver) -> None:
    alert = critical_alert(f"https://hooks.slack.com/services/{SLACK_TOKENS}")
    notifier(slack_webhook_base=f"{http_receiver.url}/services").send(alert)
    (request,) = http_receiver.requests
    assert request.path == f"/services/{SLACK_TOKENS}"
    (attachment,) = request.json()["attachments"]
    assert attachment["title"] == alert.subject
    assert "*What moved:* ATL 2.1 moved from" in attachment["text"]  # mrkdwn bold
    assert f"<{TICKET_URL}|OPS-42>" in attachment["text"]  # mrkdwn link


def test_an_apprise_slack_url_reaches_the_same_webhook(http_receiver: HttpReceiver) -> None:
    notifier(slack_webhook_base=f"{http_receiver.url}/services/").send(
        critical_alert(f"slack://{SLACK_TOKENS}")
    )
    assert [r.path for r in http_receiver.requests] == [f"/services/{SLACK_TOKENS}"]


@pytest.mark.parametrize("form", ["workflows", "native"])
def test_a_teams_alert_posts_an_adaptive_card(https_receiver: HttpReceiver, form: str) -> None:
    host = f"127.0.0.1:{https_receiver.port}"
    target = {
        # Both are real Teams (Power Automate) forms; verify=no: the receiver's cert is self-signed.
        "workflows": f"workflows://{host}/WFLAUNCH01/{TEAMS_SIGNATURE}?verify=no",
        "native": f"https://{host}/workflows/WFLAUNCH01/triggers/manual/paths/invoke"
        f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={TEAMS_SIGNATURE}"
        "&verify=no",
    }[form]
    alert = critical_alert(target)
    notifier().send(alert)
    (request,) = https_receiver.requests
    assert request.path == "/workflows/WFLAUNCH01/triggers/manual/paths/invoke"
    assert request.query["sig"] == TEAMS_SIGNATURE
    (card,) = request.json()["attachments"]
    texts = {block.get("id"): block.get("text") for block in card["content"]["body"]}
    assert texts["title"] == alert.subject
    assert "**What moved:** ATL 2.1 moved from" in texts["body"]
    assert f"[OPS-42]({TICKET_URL})" in texts["body"]


def test_a_generic_webhook_gets_title_message_and_type(http_receiver: HttpReceiver) -> None:
    alert = critical_alert(f"json://127.0.0.1:{http_receiver.port}/hooks/launch")
    notifier().send(alert)
    (request,) = http_receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/launch")
    payload = request.json()
    assert payload["title"] == alert.subject
    assert payload["message"] == alert.body.strip()
    assert payload["type"] == "failure"  # apprise's name for a critical notice


def test_a_plain_https_url_is_sent_as_a_json_webhook(http_receiver: HttpReceiver) -> None:
    notifier().send(critical_alert(f"{http_receiver.url}/hooks/plain"))
    assert [r.json()["title"] for r in http_receiver.requests] == [critical_alert().subject]


def test_a_rate_limited_webhook_is_retried_and_delivered_once(http_receiver: HttpReceiver) -> None:
    http_receiver.respond(429)
    notifier().send(critical_alert(f"json://127.0.0.1:{http_receiver.port}/hook"))
    assert len(http_receiver.requests) == 2


def test_a_server_error_is_not_resent_since_it_may_have_acted(http_receiver: HttpReceiver) -> None:
    http_receiver.respond(500)
    with pytest.raises(ConnectorError, match=r"webhook send failed \(last status 500\)"):
        notifier().send(critical_alert(f"json://127.0.0.1:{http_receiver.port}/hook"))
    assert len(http_receiver.requests) == 1


def test_one_failed_target_does_not_stop_the_others(http_receiver: HttpReceiver) -> None:
    good = f"json://127.0.0.1:{http_receiver.port}/good"
    dead = f"slack://{SLACK_TOKENS}"
    with pytest.raises(AlertDeliveryError) as raised:
        notifier(slack_webhook_base=f"http://127.0.0.1:{free_port()}/services").send(
            critical_alert(dead, good)
        )
    assert (raised.value.delivered, raised.value.failed) == ((good,), (dead,))
    assert "slack send failed" in str(raised.value) and "1 of 2 failed (slack)" in str(raised.value)
    assert "xoxSecretHookToken42" not in str(raised.value)
    assert [r.path for r in http_receiver.requests] == ["/good"]


def test_apprise_debug_logs_never_show_webhook_tokens(
    http_receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="apprise")
    notifier(slack_webhook_base=f"{http_receiver.url}/services").send(
        critical_alert(f"slack://{SLACK_TOKENS}")
    )
    assert "Slack POST URL" in caplog.text  # apprise's debug lines do pass, masked
    assert "xoxSecretHookToken42" not in caplog.text
    assert "B0SYNC0001" not in caplog.text
    assert logging.getLogger("apprise").level == logging.DEBUG


def test_apprise_debug_lines_stay_quiet_unless_asked_for(
    http_receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    before = logging.getLogger("apprise").level
    notifier().send(critical_alert(f"json://127.0.0.1:{http_receiver.port}/hook"))
    assert "JSON Payload" not in caplog.text
    assert logging.getLogger("apprise").level == before


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("msteams://team/aaaa/bbbb/cccc", "teams send failed: Office 365 connectors"),
        ("nosuch://host/token", "nosuch send failed: not an apprise URL"),
        ("just-a-name", "email send failed: a target is an e-mail address or a URL"),
    ],
)
def test_an_unusable_target_is_named_by_its_kind(target: str, problem: str) -> None:
    assert (notifier().problem_with(target) or "").startswith(problem)
    with pytest.raises(ConnectorError, match=problem):
        notifier().send(critical_alert(target))


def test_a_usable_target_has_no_problem(smtp_server: SmtpServer) -> None:
    assert notifier(smtp_server.url).problem_with("pm@example.com") is None
    assert notifier().problem_with(f"slack://{SLACK_TOKENS}") is None
    assert smtp_server.messages == []


# --- pure helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("pm@example.com", "email"),
        ("mailtos://u:p@smtp.example.com", "email"),
        ("https://hooks.slack.com/services/T/B/C", "slack"),
        ("slack://T/B/C", "slack"),
        ("workflows://host/wf/sig", "teams"),
        ("https://x.logic.azure.com:443/workflows/id/triggers/manual/paths/invoke?sig=s", "teams"),
        ("json://hooks.example.com/launch", "webhook"),
        ("https://hooks.example.com/launch", "webhook"),
        ("discord://id/token", "discord"),
    ],
)
def test_channel_kinds(target: str, kind: str) -> None:
    assert channel_kind(target) == kind


def test_target_secrets_are_passwords_tokens_and_signatures_not_hosts_or_senders() -> None:
    found = target_secrets(
        "mailtos://me:p%40ss@smtp.example.com:587/?from=a@example.com&pass=other-secret"
    )
    assert {"p%40ss", "p@ss", "other-secret"} <= found
    assert not found & {"smtp.example.com", "a@example.com", "me"}
    assert {"T0LAUNCH1", "B0SYNC0001", "xoxSecretHookToken42"} <= target_secrets(
        f"slack://{SLACK_TOKENS}"
    )
