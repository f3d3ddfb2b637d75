"""Database configuration and start-up work: migrations, court rows.

The schema is versioned with Tortoise's built-in migrations (``nextgen_gql.migrations``);
``prepare_database`` applies pending ones, so a second start on the same database is a
no-op that loses nothing.
"""

from __future__ import annotations

import os
from typing import Any

from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

__all__ = ["TORTOISE_ORM", "apply_migrations", "is_postgres_url", "plain_postgres_url", "tortoise_config"]

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


def tortoise_config(database_url: str, *, statement_timeout_ms: int = 0) -> dict[str, Any]:
    """The Tortoise configuration for one database URL. ``statement_timeout_ms`` (PostgreSQL,
    the request pool of ``serve``): every statement on its connections ends after that long
    (the server's ``statement_timeout``); commands, migrations and listeners open their own
    connections without it."""
    connection: Any = database_url
    engine = _ENGINES.get(database_url.split("://", 1)[0])
    if engine is not None:
        from tortoise.backends.base.config_generator import expand_db_url

        connection = expand_db_url(database_url)
        connection["engine"] = engine  # waits bounded by a request's deadline (db_backends)
        if statement_timeout_ms > 0 and engine.endswith("asyncpg"):
            connection["credentials"]["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
    return {
        "connections": {"default": connection},
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


#: For the ``tortoise`` command (``makemigrations``, ``migrate``): see ``[tool.tortoise]``.
TORTOISE_ORM = tortoise_config(os.environ.get("NEXTGEN_GQL_DATABASE_URL") or "sqlite://nextgen.sqlite3")


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

    lock = await asyncpg.connect(plain_postgres_url(database_url))
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
