"""Alembic environment: migrates the connection `StateStore.open` hands over, or a URL.

Run by hand (rarely needed): `alembic -c connectors/migrations/alembic.ini upgrade head`
with `-x url=sqlite:///launchsync.db`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from connectors.state_schema import VERSION_TABLE, metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass the state database URL: alembic ... -x url=sqlite:///launchsync.db")
    if context.is_offline_mode():  # `alembic upgrade head --sql`: print the DDL
        context.configure(url=url, target_metadata=metadata, version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


_main()
