"""The redactor masks known secrets wherever log text goes, tracebacks included."""

from __future__ import annotations

import logging

import pytest
from prefect import flow, get_run_logger

from flows.redact import MASK, Redactor

SECRET = "tok-CANARY-5d1e0c9a"


@flow
def careless() -> None:
    logger = get_run_logger()
    logger.info("calling Jira with token %s", SECRET)
    try:
        raise RuntimeError(f"401 for Authorization: Bearer {SECRET}")
    except RuntimeError:
        logger.exception("request failed")


def test_secrets_logged_by_a_flow_are_masked_once_the_redactor_is_installed(
    prefect_harness: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    redactor = Redactor([SECRET])
    redactor.install()
    try:
        careless()
    finally:
        for handler in [*logging.getLogger().handlers, *logging.getLogger("prefect").handlers]:
            handler.removeFilter(redactor)
        for name in ("prefect", "launchsync"):
            logging.getLogger(name).removeFilter(redactor)
    assert SECRET not in caplog.text
    assert f"calling Jira with token {MASK}" in caplog.text
    assert f"Bearer {MASK}" in caplog.text  # the traceback text is masked too


def test_text_masking_prefers_the_longest_secret() -> None:
    redactor = Redactor(["abcd", "abcdef-long", "x"])
    assert redactor("key=abcdef-long and abcd and x") == f"key={MASK} and {MASK} and x"
