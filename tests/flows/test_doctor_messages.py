"""README's Troubleshooting table is the one doctor's message registry generates."""

from __future__ import annotations

from pathlib import Path

from flows.doctor_messages import BEGIN, END, JIRA_CREDENTIALS, troubleshooting_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_troubleshooting_table_matches_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    copied = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert copied == troubleshooting_table(), "run: python -m flows.doctor_messages"


def test_a_message_is_one_line_with_the_item_and_the_fix() -> None:
    said = JIRA_CREDENTIALS.say(url="https://x.test", cause="status 401")
    assert said == (
        "Jira at https://x.test refused the credentials (status 401); "
        "check `jira.email` + `jira.api_token` (Cloud) or `jira.token` (Server/DC)"
    )
    assert "| Jira at *url* refused the credentials (*cause*) |" in troubleshooting_table()
