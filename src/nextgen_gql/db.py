"""Database configuration and start-up work: migrations, court rows.

The schema is versioned with Tortoise's built-in migrations (``nextgen_gql.migrations``);
``prepare_database`` applies pending ones, so a second start on the same database is a
no-op that loses nothing.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

__all__ = [
    "TORTOISE_ORM",
    "apply_migrations",
    "is_postgres_url",
    "plain_postgres_url",
    "tortoise_config",
]

MODELS_MODULE = "nextgen_gql.models"
#: The URL schemes of a PostgreSQL database (anything else is SQLite).
POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://")


def is_postgres_url(database_url: str) -> bool:
    """Whether ``database_url`` names a PostgreSQL database."""
    return database_url.startswith(POSTGRES_SCHEMES)


def plain_postgres_url(database_url: str) -> str:
    """The URL asyncpg takes, from a Tortoise URL (pool parameters dropped)."""
    return "postgresql://" + database_url.split("://", 1)[1].split("?", 1)[0]


MIGRATIONS_MODULE = "nextgen_gql.migrations"


#: Our engines by URL scheme: Tortoise's own, their waits for a connection bounded by the
#: running request's deadline (``NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS``, ``db_backends.deadline``).
_ENGINES = {
    "sqlite": "nextgen_gql.db_backends.sqlite",
    "postgres": "nextgen_gql.db_backends.asyncpg",
    "postgresql": "nextgen_gql.db_backends.asyncpg",
    "asyncpg": "nextgen_gql.db_backends.asyncpg",
}


def _connection(database_url: str, statement_timeout_ms: int, transaction_pooling: bool = False) -> Any:
    connection: Any = database_url
    engine = _ENGINES.get(database_url.split("://", 1)[0])
    if engine is not None:
        from tortoise.backends.base.config_generator import expand_db_url

        connection = expand_db_url(database_url)
        connection["engine"] = engine  # waits bounded by a request's deadline (db_backends)
        if transaction_pooling and engine.endswith("asyncpg"):
            connection["credentials"]["statement_cache_size"] = 0
        elif statement_timeout_ms > 0 and engine.endswith("asyncpg"):
            connection["credentials"]["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
    return connection


def tortoise_config(
    database_url: str, *, statement_timeout_ms: int = 0, transaction_pooling: bool = False
) -> dict[str, Any]:
    """The Tortoise configuration for one database URL. ``statement_timeout_ms`` (PostgreSQL,
    the request pool of ``serve``): every statement on its connections ends after that long
    (the server's ``statement_timeout``); commands, migrations and listeners open their own
    connections without it. ``transaction_pooling`` (behind PgBouncer in transaction mode):
    no prepared-statement cache (asyncpg then sends unnamed statements) and no startup
    parameter (PgBouncer refuses them): the timeout is the role's (``set_role_statement_timeout``)."""
    connections = {"default": _connection(database_url, statement_timeout_ms, transaction_pooling)}
    return {
        "connections": connections,
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def client_for(
    database_url: str, name: str, *, statement_timeout_ms: int = 0, transaction_pooling: bool = False
) -> BaseDBAsyncClient:
    """A Tortoise client of our engines for ``database_url``, made as Tortoise makes the
    configured ones, but outside its configuration: a read replica's (``nextgen_gql.replica``),
    which no model names and ``in_transaction()`` must not see (it refuses to guess among two
    connections). Its pool opens on first use; the caller closes it."""
    info = _connection(database_url, statement_timeout_ms, transaction_pooling)
    client_class: type[BaseDBAsyncClient] = importlib.import_module(info["engine"]).client_class
    return client_class(**{**info["credentials"], "connection_name": name})


#: For the ``tortoise`` command (``makemigrations``, ``migrate``): see ``[tool.tortoise]``.
TORTOISE_ORM = tortoise_config(os.environ.get("NEXTGEN_GQL_DATABASE_URL") or "sqlite://nextgen.sqlite3")


#: A direct connection (migrations, maintenance, listeners, exports) is exempt from the
#: request's statement timeout, even when the role carries one (transaction pooling).
DIRECT_SERVER_SETTINGS = {"statement_timeout": "0"}


async def set_role_statement_timeout(direct_url: str, statement_timeout_ms: int) -> str:
    """``ALTER ROLE <the connecting role> IN DATABASE <this database> SET statement_timeout``:
    behind PgBouncer in transaction mode no session can carry the request's timeout, so the
    role does, in this database only (every new server connection takes it; PgBouncer's
    existing ones on their next start). Run on the direct connection, whose own startup
    parameter (``statement_timeout = 0``) overrides it. Returns the role's name."""
    import asyncpg

    conn = await asyncpg.connect(plain_postgres_url(direct_url), server_settings=DIRECT_SERVER_SETTINGS)
    try:
        role = str(await conn.fetchval("SELECT current_user"))
        quoted = str(await conn.fetchval("SELECT quote_ident($1)", role))
        database = str(await conn.fetchval("SELECT quote_ident(current_database())"))
        await conn.execute(
            f"ALTER ROLE {quoted} IN DATABASE {database} SET statement_timeout = {int(statement_timeout_ms)}"
        )
        return role
    finally:
        await conn.close()


#: Held while migrating on PostgreSQL, so that N processes starting at once migrate once.
MIGRATION_LOCK_KEY = 0x6E6778  # "ngx"


async def apply_migrations(database_url: str, target: str | None = None, *, snapshot: bool = True) -> None:
    """Apply every pending migration (or move to ``target``, "models.0002_..."), in a Tortoise
    context of its own.

    A new SQLite database is built in one step from what the migrations build
    (``schema_snapshot``, when its file is current; ``snapshot=False``: never). On PostgreSQL
    an advisory lock serialises concurrent starts: the first process migrates, the others
    wait for it and then find nothing to do.
    """
    config = tortoise_config(database_url)
    if not is_postgres_url(database_url):
        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            if snapshot and target is None:
                from tortoise import connections

                from nextgen_gql import schema_snapshot

                if await schema_snapshot.apply(connections.get("default")):
                    return
            await migrate(config=config, target=target)
        return
    import asyncpg

    config["connections"]["default"]["credentials"]["server_settings"] = dict(DIRECT_SERVER_SETTINGS)
    lock = await asyncpg.connect(plain_postgres_url(database_url), server_settings=DIRECT_SERVER_SETTINGS)
    try:
        await lock.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            await migrate(config=config, target=target)
    finally:
        try:
            await lock.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        finally:
            await lock.close()


#: PostgreSQL's SQLSTATE for a statement cancelled (by ``statement_timeout`` among others).
QUERY_CANCELED = "57014"


def statement_timed_out(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it: the ORM wraps the driver's errors) is a statement
    the database cancelled, as ``NEXTGEN_GQL_STATEMENT_TIMEOUT_MS`` does."""
    seen = 0
    while error is not None and seen < 10:
        if getattr(error, "sqlstate", None) == QUERY_CANCELED:
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
