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

__all__ = ["TORTOISE_ORM", "apply_migrations", "tortoise_config"]

MODELS_MODULE = "nextgen_gql.models"
MIGRATIONS_MODULE = "nextgen_gql.migrations"


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise configuration for one database URL."""
    return {
        "connections": {"default": database_url},
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


async def apply_migrations(database_url: str) -> None:
    """Apply every pending migration, in a Tortoise context of its own."""
    config = tortoise_config(database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await migrate(config=config)
