"""New, empty PostgreSQL databases on one server, for tests and benchmarks; all dropped after.

with postgres_databases("postgresql+psycopg://postgres@127.0.0.1:5432/test", "x_") as dbs:
    url = dbs.create()   # the URL of a new database x_<random> on that server
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url


class PostgresDatabases:
    """Creates uniquely named databases on one server and drops them all afterwards."""

    def __init__(self, server: str, prefix: str, admin: Engine) -> None:
        self.server, self.prefix, self.admin = server, prefix, admin
        self.created: list[str] = []

    def create(self) -> str:
        """A new empty database; its URL."""
        name = f"{self.prefix}{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(self.server).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every database created here (FORCE: pooled or killed connections may linger)."""
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def postgres_databases(server: str, prefix: str) -> Iterator[PostgresDatabases]:
    """Databases `prefix<random>` on the server `server` names, dropped when the block ends."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    databases = PostgresDatabases(server, prefix, admin)
    try:
        yield databases
    finally:
        databases.drop_all()
        admin.dispose()
