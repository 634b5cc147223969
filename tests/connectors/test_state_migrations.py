"""State store schema: one linear alembic history, databases from release one migrate on
open, the tables match the models, and a wrong URL says what to fix in one line."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from connectors.state_db import MIGRATIONS
from connectors.state_schema import VERSION_TABLE, metadata
from connectors.state_store import StateStore
from models.errors import ConfigError, ConnectorError
from tests.factories import day, version

FIRST_REVISION = "0001"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_to(url: str, revision: str) -> None:
    """What an older release of launchsync left behind: the schema at `revision`."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


def test_the_migration_history_is_one_line_with_one_head() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert len(scripts.get_heads()) == 1
    revisions = list(scripts.walk_revisions())
    assert revisions[-1].revision == FIRST_REVISION and revisions[-1].down_revision is None
    assert all(not r.is_merge_point for r in revisions)


def test_a_database_from_the_first_release_opens_and_keeps_its_data(
    fresh_state_url: Callable[[], str],
) -> None:
    url = fresh_state_url()
    upgrade_to(url, FIRST_REVISION)
    with StateStore.open(url) as store:
        store.save_cursors("prod", {"jira:PROJ": "c1"})
        store.record_release_dates("prod", [version("2.4", day(1))], dt.datetime.now(dt.UTC))
    with StateStore.open(url) as reopened:  # opening again migrates nothing and loses nothing
        assert reopened.cursors("prod") == {"jira:PROJ": "c1"}
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(url) == head


def test_channel_urls_claimed_before_labels_lose_their_tokens_on_open(
    fresh_state_url: Callable[[], str],
) -> None:
    url = fresh_state_url()
    upgrade_to(url, "0004")
    hook = "https://hooks.slack.com/services/T0/B0/s3cretToken"
    engine = create_engine(url)
    try:
        with engine.begin() as db:
            db.execute(
                text(
                    "INSERT INTO launchsync_alerts (config_key, alert_key, recipients, claimed_at)"
                    " VALUES ('prod', 'k1', :recipients, :now)"
                ),
                {
                    "recipients": json.dumps(["pm@example.com", hook]),
                    "now": dt.datetime.now(dt.UTC),
                },
            )
    finally:
        engine.dispose()
    with StateStore.open(url) as store:  # migrates
        assert not store.claim_alert("prod", "k1", ["pm@example.com"])  # the claim is kept
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            (stored,) = db.execute(text("SELECT recipients FROM launchsync_alerts")).scalars()
    finally:
        engine.dispose()
    pm, label = json.loads(stored)
    assert pm == "pm@example.com" and label.startswith("https://…#") and "s3cret" not in stored


def test_the_migrated_schema_matches_the_table_definitions(
    fresh_state_url: Callable[[], str],
) -> None:
    url = fresh_state_url()
    StateStore.open(url).close()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_a_database_from_a_newer_release_is_refused_with_the_fix(
    fresh_state_url: Callable[[], str],
) -> None:
    url = fresh_state_url()
    StateStore.open(url).close()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(ConfigError, match="newer launchsync"):
        StateStore.open(url)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("not a url", ConfigError),
        ("mysql://bob:s3cret-pw@db.example.com/launchsync", ConfigError),
        ("postgresql+psycopg://bob:s3cret-pw@127.0.0.1:1/launchsync", ConnectorError),
        ("sqlite:////no/such/directory/launchsync.db", ConnectorError),
    ],
)
def test_a_wrong_url_fails_in_one_line_without_the_password(
    url: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        StateStore.open(url)
    message = str(caught.value)
    assert "\n" not in message
    assert "s3cret-pw" not in message
    assert "state.url" in message
