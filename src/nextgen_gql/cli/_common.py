"""What every command shares: failing clearly, and a database opened the way ``serve`` opens it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nextgen_gql.settings import Settings

__all__ = ["EXIT_BAD_INPUT", "fail", "run_with_db"]

T = TypeVar("T")
EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"nextgen-gql: {message}", file=sys.stderr)
    return code


def run_with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Migrate, open the database, make sure court rows exist, run ``work``, close."""
    from tortoise.context import TortoiseContext

    from nextgen_gql.db import apply_migrations, tortoise_config
    from nextgen_gql.services.courts import sync_courts
    from nextgen_gql.tenancy import load_courts

    async def runner() -> T:
        courts = load_courts(settings.tenants_dir)
        await apply_migrations(settings.connection_url)
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(settings.connection_url))
            await sync_courts(courts)
            return await work()

    return asyncio.run(runner())
