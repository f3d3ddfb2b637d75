"""What every command shares: failing clearly, and a database opened the way ``serve`` opens it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nextgen_gql.settings import Settings

__all__ = ["EXIT_BAD_INPUT", "fail", "open_db", "run_with_db"]

T = TypeVar("T")
EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"nextgen-gql: {message}", file=sys.stderr)
    return code


def run_with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Migrate, open the database, apply the court folder as ``serve`` does (unless
    ``NEXTGEN_GQL_TENANTS_DIR`` is empty: then the database's courts stand), run ``work``, close."""
    from tortoise.context import TortoiseContext

    from nextgen_gql.db import apply_migrations, set_role_statement_timeout, tortoise_config
    from nextgen_gql.services import court_catalog
    from nextgen_gql.tenancy import load_courts

    async def runner() -> T:
        courts = load_courts(settings.tenants_dir) if settings.tenants_dir is not None else None
        await apply_migrations(settings.direct_url)
        if settings.transaction_pooling:  # behind PgBouncer: the request timeout is the role's
            await set_role_statement_timeout(settings.direct_url, settings.statement_timeout_ms)
        async with TortoiseContext() as ctx:
            await ctx.init(
                config=tortoise_config(
                    settings.connection_url, transaction_pooling=settings.transaction_pooling
                )
            )
            if courts is not None:
                await court_catalog.apply(courts)
            return await work()

    return asyncio.run(runner())


def open_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Migrate, open the database, run ``work``, close (court files untouched)."""
    from tortoise.context import TortoiseContext

    from nextgen_gql.db import apply_migrations, set_role_statement_timeout, tortoise_config

    async def runner() -> T:
        await apply_migrations(settings.direct_url)
        if settings.transaction_pooling:  # behind PgBouncer: the request timeout is the role's
            await set_role_statement_timeout(settings.direct_url, settings.statement_timeout_ms)
        async with TortoiseContext() as ctx:
            await ctx.init(
                config=tortoise_config(
                    settings.connection_url, transaction_pooling=settings.transaction_pooling
                )
            )
            return await work()

    return asyncio.run(runner())
