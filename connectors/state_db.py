"""Opening the state database: URL checks, per-backend engine settings, migrations.

Only SQLite and PostgreSQL are supported: the store relies on their `INSERT ... ON CONFLICT`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import URL, Connection, Engine, Table, create_engine, event, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from models.errors import ConfigError, ConnectorError

MIGRATIONS = Path(__file__).with_name("migrations")
SYSTEM = "state store"
URL_FIX = "set state.url to sqlite:///launchsync.db or postgresql+psycopg://USER:PASSWORD@HOST/DB"
SQLITE_BUSY_SECONDS = 30  # how long a writer waits for another process's transaction
PG_CONNECT_SECONDS = 10
MIGRATION_LOCK_ID = 0x1A0C5  # pg advisory lock: two stores opening at once migrate in turn
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL of a supported backend, else a one-line ConfigError."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        masked = _PASSWORD.sub(r"\1***@", url)
        raise ConfigError(f"state.url {masked!r} is not a database URL; {URL_FIX}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"state.url {shown(parsed)!r} names {backend!r}, unsupported; {URL_FIX}")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we ship
    return parsed


def shown(url: URL) -> str:
    """The URL as safe to print: the password masked."""
    return url.render_as_string(hide_password=True)


def open_engine(url: URL) -> Engine:
    """An engine tuned for the backend; ConfigError if its driver is not installed."""
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        return create_engine(
            url, pool_pre_ping=True, connect_args={"connect_timeout": PG_CONNECT_SECONDS}
        )
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise ConfigError(
            f"state.url {shown(url)!r}: database driver missing ({exc}); "
            "use postgresql+psycopg:// (installed with launchsync)"
        ) from None


def _sqlite_engine(url: URL) -> Engine:
    memory = url.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
        # One shared connection, else each connection would see its own empty database.
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite's own BEGINs skip DDL; we BEGIN

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        # Take the write lock up front: a deferred transaction that reads and then writes
        # fails at once with "database is locked" instead of waiting its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creates it in an empty database)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "head")
        except CommandError as exc:  # e.g. a revision this (older) launchsync does not know
            raise ConfigError(
                f"state database {shown(engine.url)!r} cannot be migrated ({exc}); "
                "it was likely written by a newer launchsync: upgrade launchsync"
            ) from None


@contextmanager
def translated(url: URL, call: str) -> Iterator[None]:
    """Database failures as a one-line ConnectorError that names the URL and the fix."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        lines = str(exc.orig).strip().splitlines() or [type(exc.orig).__name__]
        detail = lines[0]
        if url.password:  # drivers may echo the connection string
            detail = detail.replace(str(url.password), "***")
        if url.get_backend_name() == "sqlite":
            fix = "check that the file's directory exists and is writable, or fix state.url"
        else:
            fix = "check that the database server is running and reachable, or fix state.url"
        raise ConnectorError(SYSTEM, f"{call} at {shown(url)}", None, f"{detail}; {fix}") from None


def upsert(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, or overwrite the non-key columns of those whose primary key exists."""
    if not rows:
        return
    stmt = _insert(connection, table)
    keys = [c.name for c in table.primary_key.columns]
    changed = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    connection.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changed), rows)


def insert_new(connection: Connection, table: Table, row: dict[str, Any]) -> bool:
    """Insert one row unless its primary key exists; True if this call inserted it."""
    stmt = _insert(connection, table).values(row).on_conflict_do_nothing()
    # SQLAlchemy keeps an INSERT's rowcount only when asked to.
    result = connection.execute(stmt.execution_options(preserve_rowcount=True))
    return result.rowcount == 1


def _insert(connection: Connection, table: Table) -> Any:
    # Both dialects' inserts have on_conflict_*; their types differ, hence Any.
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
