"""Tortoise's SQLite engine, the wait for its one connection's lock bounded by the request's
deadline."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from tortoise.backends.sqlite.client import SqliteClient

from nextgen_gql.db_backends import deadline

__all__ = ["DeadlineLock", "client_class"]


class DeadlineLock(asyncio.Lock):
    """The connection's lock: taken at once when free, else waited for until the request's
    deadline at most."""

    async def acquire(self) -> Literal[True]:
        return await deadline.wait(lambda: not self.locked(), self._acquire_within)

    async def _acquire_within(self, limit: float | None) -> Literal[True]:
        if limit is None:
            return await super().acquire()
        async with asyncio.timeout(limit):
            return await super().acquire()


class DeadlineSqliteClient(SqliteClient):
    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self._lock = DeadlineLock()


client_class = DeadlineSqliteClient
