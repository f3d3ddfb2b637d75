"""Tortoise's asyncpg engine, its pool's ``acquire`` bounded by the request's deadline, its
connection failures told as such (``db_backends.outages``), and its transactions safe across a
server restart (``SafeTransactionContext``)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import TransactionContext, TransactionContextPooled
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

from nextgen_gql.db_backends import deadline
from nextgen_gql.db_backends.outages import DatabaseUnavailable, connecting_failed, is_unavailable

__all__ = ["DeadlinePool", "SafeTransactionContext", "client_class"]


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
        try:
            return await deadline.wait(self._free, self._acquire_within)
        except OSError as exc:  # a new connection refused or reset: the server is away
            if connecting_failed(exc):
                raise DatabaseUnavailable(exc) from exc
            raise

    async def _acquire_within(self, limit: float | None) -> Any:
        # Not asyncpg's own acquire(timeout=...): the connection would keep that timeout for
        # its reset on release, which then fails under load.
        if limit is None:
            return await self._pool.acquire()
        async with asyncio.timeout(limit):
            return await self._pool.acquire()


async def _give_back(pool: Any, connection: Any, *, end: bool) -> None:
    """Return a pooled connection; ``end``: terminate it first (its protocol's state is not
    known), so that the pool opens a fresh one in its place rather than hand it out again."""
    if end:
        with contextlib.suppress(Exception):
            connection.terminate()
    with contextlib.suppress(Exception):
        await pool.release(connection)


class SafeTransactionContext(TransactionContextPooled):
    """Tortoise's pooled transaction, with the two faults a PostgreSQL restart exposed fixed.

    The cause of "cannot switch to state 15; another operation (2) is in progress" (asyncpg's
    ``InternalClientError`` at ``BEGIN`` in ``recordUsage``, reproduced with a fast restart under
    concurrent transactions): no two tasks ran on one connection. On a fast shutdown the server
    sends every idle session a FATAL ErrorResponse (57P01) and closes it. asyncpg reads that
    message on an *idle* connection as a protocol error and leaves the protocol in
    ``ERROR_CONSUME`` (state 2), waiting for a ReadyForQuery that never comes; until the
    socket's end is read, in a later turn of the loop, the connection does not count as closed,
    so the pool hands it out, and the first statement on it (``BEGIN``, a simple query: state
    15) finds "another operation" in progress.

    Tortoise's ``TransactionContextPooled`` then made it worse: it sets the task's connection
    (a context variable) to the transaction *before* ``BEGIN`` and, when ``BEGIN`` fails or is
    cancelled, never runs ``__aexit__``, so the connection is neither released nor forgotten:
    every later statement of that task (and of every task it starts, which copy its context)
    runs on that dead connection ("connection is closed", hundreds of times in the
    reproduction), and a cancelled ``BEGIN`` keeps a live pool connection checked out for good.

    Here: the task's connection is set only once ``BEGIN`` succeeded; a failed or cancelled
    ``BEGIN`` gives the connection back (terminated when its state is unknown) and, when the
    server ended the session, takes one fresh connection and begins again (nothing was
    written: safe); a rollback on a connection already lost ends it and lets the original error
    through, instead of hiding it under the rollback's own.
    """

    async def __aenter__(self) -> Any:
        await self.ensure_connection()
        client = self.client
        pool = client._parent._pool
        for attempt in (1, 2):
            connection = await pool.acquire()
            client._connection = connection
            try:
                await client.begin()
            except BaseException as exc:
                lost = isinstance(exc, Exception) and is_unavailable(exc)
                await _give_back(pool, connection, end=lost or isinstance(exc, asyncpg.InternalClientError))
                client._connection = None
                if lost and attempt == 1:
                    continue
                raise
            self.token = get_connections().set(self.connection_name, client)
            return client
        raise AssertionError("unreachable")  # pragma: no cover

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        client = self.client
        lost = False
        try:
            if not client._finalized:
                if exc_type is None:
                    await client.commit()
                elif exc_type is not TransactionManagementError:
                    try:
                        await client.rollback()
                    except Exception as failed:
                        if not is_unavailable(failed):
                            raise
                        lost = True  # the server rolled it back with the session: the first error tells
        except Exception as failed:
            lost = is_unavailable(failed)
            raise
        finally:
            if client._parent._pool:
                await _give_back(client._parent._pool, client._connection, end=lost)
            get_connections().reset(self.token)


class SafeTransactionWrapper(TransactionWrapper):
    """Tortoise's transaction client; ``OSError`` while connecting told as ``DatabaseUnavailable``."""

    async def _translate_exceptions(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        return await _translated(super()._translate_exceptions, func, *args, **kwargs)


async def _translated(call: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return await call(func, *args, **kwargs)
    except OSError as exc:
        if connecting_failed(exc):
            raise DatabaseUnavailable(exc) from exc
        raise


async def _no_session_state(connection: asyncpg.Connection) -> None:
    """The pool's reset of a connection given back (asyncpg rolls back an open transaction
    first, in ``Connection._reset``, with no round trip otherwise).

    asyncpg's default runs a reset query at every release (``pg_advisory_unlock_all()``,
    ``CLOSE ALL``, ``UNLISTEN *``, ``RESET ALL``): a round trip to the server for every
    statement read outside a transaction, two of the four a roster page made. The service's
    pooled connections carry no session state to reset: it keeps to the rules of transaction
    pooling (behind PgBouncer in transaction mode a connection is shared between clients at
    every transaction, with no reset query either, and the PgBouncer test leg runs the suite
    so): settings and advisory locks are transaction-scoped (``SET LOCAL``,
    ``pg_advisory_xact_lock``), and ``LISTEN``, session advisory locks and migrations use
    connections of their own (``NEXTGEN_GQL_DIRECT_DATABASE_URL``), never the pool's."""


class DeadlineAsyncpgClient(AsyncpgDBClient):
    async def create_pool(self, **kwargs: Any) -> Any:
        kwargs.setdefault("reset", _no_session_state)
        return DeadlinePool(await super().create_pool(**kwargs))

    async def _translate_exceptions(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        return await _translated(super()._translate_exceptions, func, *args, **kwargs)

    def _in_transaction(self) -> TransactionContext:
        return SafeTransactionContext(SafeTransactionWrapper(self), self._pool_init_lock)


client_class = DeadlineAsyncpgClient
