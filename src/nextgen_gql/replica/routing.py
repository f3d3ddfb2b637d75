"""Where a query's data reads go: the replica, or the database.

Nothing goes to the replica unless two things hold:

- the request opened a route (``query_reads``: the view does, for a query over HTTP, and
  nothing else: mutations, subscriptions and their live events, commands and background work
  never do) and decided it (``decide``, once the caller's session or key was read on the
  database, with the write position kept there): the replica is usable and has replayed the
  caller's last write;
- the read is a data read (``data_read``): a function of the data layer that reads what
  answers show (accounts, the roster, registrations, audit events, firms), never a credential,
  session, key, budget, privilege, membership, clerkship or any fact a permission is decided on.
  Those functions run on the replica by putting its client in the place of Tortoise's
  ``default`` connection for the call (``ConnectionHandler.set``, task-local), so a queryset and
  a fixed SQL read alike go there; inside a transaction they stay on its connection.

A data read that fails because the replica is gone, or is cancelled by a recovery conflict,
runs again on the database (the replica is left aside when gone); the request never sees it.
Tortoise's own ``routers`` are not used: they would send reads made inside a transaction to the
replica too.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.connection import get_connections

from nextgen_gql.db_backends.outages import is_unavailable
from nextgen_gql.observability.requests import note_reads
from nextgen_gql.replica.health import ReplicaHealth, ReplicaState

__all__ = [
    "Replica",
    "Route",
    "current",
    "data_read",
    "database_reads",
    "decide",
    "expects_replica",
    "query_reads",
]

log = logging.getLogger("nextgen_gql.replica")

P = ParamSpec("P")
T = TypeVar("T")

#: ``pg_lsn`` as a number of bytes (what ``sessions.write_lsn`` keeps).
LSN_BYTES = "(({}) - '0/0'::pg_lsn)::bigint"
_DATABASE_POSITION = "SELECT " + LSN_BYTES.format("pg_current_wal_flush_lsn()")
_REPLICA_POSITION = "SELECT pg_is_in_recovery(), " + LSN_BYTES.format("pg_last_wal_replay_lsn()")

#: SQLSTATEs of a read the replica refused, to be run on the database instead: a query
#: cancelled by a conflict with recovery (40001), a write sent to a read-only server (25006: a
#: function marked ``data_read`` that writes, a bug, logged).
_RECOVERY_CONFLICT = "40001"
_READ_ONLY = "25006"


class Replica:
    """This worker's replica: its Tortoise connection, its health, and the choice per request."""

    def __init__(self, client: BaseDBAsyncClient, max_lag_ms: int) -> None:
        #: Our engine's client for the replica, outside Tortoise's configuration (``db.client_for``).
        self.client = client
        self.health = ReplicaHealth(max_lag_ms, self._database_position, self._replica_position)

    async def _database_position(self) -> int:
        _, rows = await get_connections().get("default").execute_query(_DATABASE_POSITION)
        return int(rows[0][0])

    async def _replica_position(self) -> tuple[bool, int | None]:
        _, rows = await self.client.execute_query(_REPLICA_POSITION)
        in_recovery, replayed = rows[0][0], rows[0][1]
        return bool(in_recovery), (int(replayed) if replayed is not None else None)

    async def choose(self, write_lsn: int | None) -> tuple[BaseDBAsyncClient | None, str]:
        """The replica's client, or None for the database, and why (the request's ``reads``)."""
        state = await self.health.current()
        if state is None or not state.usable:
            return None, "primary_replica_away"
        if write_lsn is not None and write_lsn > state.replay_lsn:
            return None, "primary_own_write"
        return self.client, "replica"


class Route:
    """One request's reads: undecided (the database) until ``decide``."""

    __slots__ = ("client", "target")

    def __init__(self) -> None:
        #: The replica's client once decided for it; None: the database.
        self.client: BaseDBAsyncClient | None = None
        #: What was decided (``replica``, ``primary_own_write``, ...); None: not yet.
        self.target: str | None = None


_ROUTE: ContextVar[Route | None] = ContextVar("nextgen_gql_read_route", default=None)
#: A data read runs on the replica in this task now (a nested one runs on it as it is).
_ON_REPLICA: ContextVar[bool] = ContextVar("nextgen_gql_on_replica", default=False)
#: The replica of this worker while the app serves (``serving``); None: none configured.
_replica: Replica | None = None


def install(replica: Replica | None) -> None:
    global _replica
    _replica = replica


def current() -> Replica | None:
    """The replica this worker serves with (None: none configured, or not serving)."""
    return _replica


def state() -> ReplicaState | None:
    return _replica.health.state if _replica is not None else None


@contextlib.contextmanager
def query_reads() -> Iterator[None]:
    """Around a query's execution over HTTP: its data reads may go to the replica once decided."""
    if _replica is None:
        yield
        return
    token = _ROUTE.set(Route())
    try:
        yield
    finally:
        _ROUTE.reset(token)


@contextlib.contextmanager
def database_reads() -> Iterator[None]:
    """Within: this request's data reads go to the database, whatever was decided."""
    token = _ROUTE.set(None)
    try:
        yield
    finally:
        _ROUTE.reset(token)


def expects_replica() -> bool:
    """Whether this request's reads are likely to go to the replica (a route is open, and the
    replica was usable when last checked): no I/O, for reads planned before ``decide``."""
    if _replica is None or _ROUTE.get() is None:
        return False
    found = _replica.health.state
    return found is not None and found.usable


async def decide(write_lsn: int | None) -> str | None:
    """Where this request's data reads go, given the write position kept with the caller's
    session or key (None: the caller wrote nothing, or is anonymous). Returns what was decided,
    None when no route is open (not a query, or no replica)."""
    route = _ROUTE.get()
    if route is None or _replica is None:
        return None
    route.client, route.target = await _replica.choose(write_lsn)
    note_reads(route.target)
    return route.target


def _refused_by_replica(exc: BaseException) -> str | None:
    """``lost``, ``conflict`` or ``read_only`` when the replica failed the read (run it on the
    database instead); None for any other error (the read's own)."""
    if is_unavailable(exc):
        return "lost"
    seen = 0
    error: BaseException | None = exc
    while error is not None and seen < 10:
        code = getattr(error, "sqlstate", None)
        if code == _RECOVERY_CONFLICT:
            return "conflict"
        if code == _READ_ONLY:
            return "read_only"
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def data_read(fn: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Mark a function of the data layer as a data read: within a query routed to the replica,
    it runs there (see the module's docstring); anywhere else, as it is."""

    @functools.wraps(fn)
    async def read(*args: P.args, **kwargs: P.kwargs) -> T:
        route = _ROUTE.get()
        if route is None or route.client is None or _ON_REPLICA.get():
            return await fn(*args, **kwargs)
        handler = get_connections()
        if isinstance(handler.get("default"), TransactionalDBClient):
            return await fn(*args, **kwargs)  # a read inside a transaction sees what it wrote
        token = handler.set("default", route.client)
        on = _ON_REPLICA.set(True)
        try:
            return await fn(*args, **kwargs)
        except Exception as exc:
            why = _refused_by_replica(exc)
            if why is None:
                raise
            failure: Exception = exc
        finally:
            _ON_REPLICA.reset(on)
            handler.reset(token)
        # The replica failed this read: the rest of the request reads the database.
        route.client, route.target = None, "primary_replica_failed"
        note_reads(route.target)
        if why == "lost" and _replica is not None:
            _replica.health.lost(failure)
        elif why == "read_only":
            log.error("replica: %s wrote in a data read; run on the database", fn.__qualname__)
        return await fn(*args, **kwargs)

    return read
