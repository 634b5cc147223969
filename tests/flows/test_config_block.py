"""A config kept in a Prefect Secret block, as the flow's `config="block:<name>"`."""

from __future__ import annotations

import pytest
from prefect.blocks.system import Secret

from flows.bootstrap import config_key_of, load_with_secrets
from models.errors import ConfigError

YAML = """
timezone: Europe/Berlin
jira: {url: "https://jira.test", email: bot@example.com, api_token: tok-block-secret-42,
       projects: [PROJ]}
calendar: {calendar_ids: [marketing@example.com]}
"""


def test_a_config_loads_from_a_secret_block_and_its_secrets_are_masked(
    prefect_harness: None,
) -> None:
    Secret(value=YAML).save("launch-config", overwrite=True)
    config, redactor = load_with_secrets("block:launch-config")
    assert (config.timezone, config.jira.projects) == ("Europe/Berlin", ("PROJ",))
    assert redactor("token tok-block-secret-42") == "token ***"
    assert config_key_of("block:launch-config") == "launch-config"


def test_a_missing_block_is_one_line_naming_it(prefect_harness: None) -> None:
    with pytest.raises(ConfigError, match="Prefect block 'nope': not found; save the config"):
        load_with_secrets("block:nope")
