"""Tortoise's asyncpg engine, its pool's ``acquire`` bounded by the request's deadline."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from nextgen_gql.db_backends import deadline

__all__ = ["DeadlinePool", "client_class"]


class DeadlinePool:
    """An asyncpg pool whose ``acquire()`` waits no longer than the request's deadline (every
    other attribute is the pool's own)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def _free(self) -> bool:
        pool = self._pool
        return bool(pool.get_idle_size() > 0 or pool.get_size() < pool.get_max_size())

    async def acquire(self) -> Any:
        return await deadline.wait(self._free, self._acquire_within)

    async def _acquire_within(self, limit: float | None) -> Any:
        # Not asyncpg's own acquire(timeout=...): the connection would keep that timeout for
        # its reset on release, which then fails under load.
        if limit is None:
            return await self._pool.acquire()
        async with asyncio.timeout(limit):
            return await self._pool.acquire()


class DeadlineAsyncpgClient(AsyncpgDBClient):
    async def create_pool(self, **kwargs: Any) -> Any:
        return DeadlinePool(await super().create_pool(**kwargs))


client_class = DeadlineAsyncpgClient
