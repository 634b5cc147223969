"""The config file: what a user gets told when it is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.config import load_config, parse_config
from models.errors import ConfigError

GOOD = """
timezone: America/Los_Angeles
jira:
  url: https://example.atlassian.net/
  email: pm@example.com
  api_token: ${JIRA_API_TOKEN}
  projects: [PROJ]
calendar:
  kind: google
  calendar_ids: [marketing@example.com]
policy: {notice_days: 7}
"""


def error_of(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "launchsync.yaml", {"JIRA_API_TOKEN": "s3cret"} if env is None else env)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_good_config_loads_with_defaults_and_expanded_secrets() -> None:
    config = parse_config(GOOD, "launchsync.yaml", {"JIRA_API_TOKEN": "s3cret"})
    assert config.jira.api_token is not None
    assert config.jira.api_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(config)
    assert (config.jira.url, config.policy.notice_days, config.policy.horizon_days) == (
        "https://example.atlassian.net",
        7,
        90,
    )
    assert config.jira.ticket_project == "PROJ"


def test_an_unknown_key_is_named_with_the_file() -> None:
    message = error_of(GOOD.replace("notice_days: 7", "notice_dayz: 7"))
    assert message.startswith("launchsync.yaml: policy.notice_dayz: unknown key")


def test_a_bad_value_names_the_key_but_never_echoes_it() -> None:
    message = error_of(GOOD.replace("notice_days: 7", "notice_days: soon"))
    assert "policy.notice_days" in message and "soon" not in message


def test_a_missing_environment_variable_says_which_and_where() -> None:
    message = error_of(GOOD, env={})
    assert message == (
        "launchsync.yaml: jira.api_token: environment variable JIRA_API_TOKEN "
        "is not set; export JIRA_API_TOKEN or keep the whole config in a Prefect Secret block "
        "(block:<name>)"
    )


def test_a_default_applies_when_the_variable_is_unset() -> None:
    text = GOOD.replace("America/Los_Angeles", "${TZ_NAME:-Europe/Berlin}")
    assert parse_config(text, "f", {"JIRA_API_TOKEN": "s3cret"}).timezone == "Europe/Berlin"


TOKEN_LINE = "  api_token: ${JIRA_API_TOKEN}\n"
CLOUD_LINES = "  email: pm@example.com\n" + TOKEN_LINE
WRITTEN_SECRETS = [
    (TOKEN_LINE, "  api_token: tok-12345\n", "jira.api_token"),
    (TOKEN_LINE, "  api_token: ${JIRA_API_TOKEN:-tok-12345}\n", "jira.api_token"),
    (TOKEN_LINE, "  api_token: tok-${JIRA_API_TOKEN}\n", "jira.api_token"),
    (CLOUD_LINES, "  token: 1234567\n", "jira.token"),
    ("policy:", "webhooks: {jira_secret: whsec-12345}\npolicy:", "webhooks.jira_secret"),
    ("policy:", "webhooks: {google_token: chan-12345}\npolicy:", "webhooks.google_token"),
    ("  kind: google\n", "  kind: caldav\n  url: https://dav.test\n  password: pw-12345\n",
     "calendar.password"),
    ("policy:", "alerts: {smtp: 'mailtos://u:pw-12345@smtp.test'}\npolicy:", "alerts.smtp"),
    ("policy:", "alerts: {smtp: 'mailtos://smtp.test?user=u&pass=pw-12345'}\npolicy:",
     "alerts.smtp"),
]  # fmt: skip


@pytest.mark.parametrize(("good", "written", "key"), WRITTEN_SECRETS)
def test_a_secret_written_in_the_file_is_refused_naming_the_key_and_the_fix(
    good: str, written: str, key: str
) -> None:
    message = error_of(GOOD.replace(good, written))
    assert message.startswith(f"launchsync.yaml: {key}: "), message
    assert "${" in message and "Prefect Secret block (block:<name>)" in message
    assert "12345" not in message


def test_secrets_referenced_from_the_environment_pass() -> None:
    text = GOOD.replace(
        "policy:",
        "alerts: {smtp: 'mailtos://u:${SMTP_PASSWORD}@smtp.test:587?from=ls@x.test'}\n"
        "webhooks: {jira_secret: '${HOOK_SECRET}', google_token: '${CHANNEL_TOKEN:-}'}\npolicy:",
    )
    env = {"JIRA_API_TOKEN": "s3cret", "SMTP_PASSWORD": "pw", "HOOK_SECRET": "whsec"}
    config = parse_config(text, "launchsync.yaml", env)
    assert config.alerts.smtp is not None and ":pw@" in config.alerts.smtp.get_secret_value()
    # A mail URL without a password (a local relay) holds no secret.
    relay = GOOD.replace(
        "policy:", "alerts: {smtp: 'mailto://127.0.0.1:25?from=ls@x.test'}\npolicy:"
    )
    assert parse_config(relay, "launchsync.yaml", env).alerts.smtp is not None


def test_a_config_kept_in_a_secret_block_may_hold_its_secrets() -> None:
    text = GOOD.replace("${JIRA_API_TOKEN}", "tok-12345")
    config = parse_config(text, "Prefect Secret block c", {}, text_is_secret=True)
    assert config.jira.api_token is not None
    assert config.jira.api_token.get_secret_value() == "tok-12345"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("America/Los_Angeles", "Mars/Olympus"), "timezone: unknown time zone 'Mars/Olympus'"),
        (("[PROJ]", "[proj; DROP]"), "jira.projects: 'proj; DROP' is not a Jira project key"),
        (("https://example.atlassian.net/", "example"), "jira.url: must be an http(s) URL"),
        (
            ("https://example.atlassian.net/", "https://bot:tok@example.atlassian.net/"),
            "jira.url: must not hold a user or password; give them as jira.email",
        ),
        (("  email: pm@example.com\n", ""), "jira: Cloud needs both email and api_token"),
        (("[marketing@example.com]", "[]"), "calendar.calendar_ids:"),
        (("kind: google", "kind: outlook"), "calendar.kind:"),
        (("kind: google", "kind: caldav"), "kind caldav needs url"),
    ],
)
def test_each_wrong_value_gets_a_one_line_fix(change: tuple[str, str], expected: str) -> None:
    assert expected in error_of(GOOD.replace(*change))


def test_a_required_section_missing_is_named() -> None:
    assert "calendar: required; add it" in error_of(GOOD.split("calendar:")[0])


def test_broken_yaml_gives_the_line() -> None:
    assert error_of("timezone: [\n").startswith("launchsync.yaml: line ")


def test_a_missing_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file; create it or pass --config"):
        load_config(tmp_path / "nope.yaml")
