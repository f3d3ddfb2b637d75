"""Points per hour per caller: what an operation costs, and whether the caller may still spend it.

A caller is a signed-in account, a court's service key, or, anonymous, its address (an IPv6
address by its /64, since one machine holds a whole /64). Each has ``points`` an hour (an
anonymous address a fifth of it); an operation costs ``max(1, ceil(nodes / 100))``. Hours
are fixed windows (the hour of the clock); ``reset_at`` is the end of the current one.

Each worker keeps its callers' spending in memory (at most ``capacity`` callers, the least
recently seen dropped first) and, on PostgreSQL, adds what it spent to ``rate_spending``
about once a second, reading back the totals of every worker (``sync``): a caller's budget
holds across workers and machines within about a second's slack. A caller this worker has not
seen this hour is first read from the shared count (``recall``: the callers met at once are
read together, and a request waits for that read at most ``RECALL_WAIT_S``), so a caller that
spent its budget at one worker does not start afresh at the next. On SQLite (one process) the
memory is the whole truth, so the count is exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import ipaddress
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from nextgen_gql.db import plain_postgres_url
from nextgen_gql.services.clock import now

__all__ = ["Budgets", "Spent", "address_caller", "cost_of", "next_hour"]

log = logging.getLogger("nextgen_gql.budgets")

HOUR = 3600

#: The longest a request waits for its caller's first read from the shared count (the database
#: away or slow: the request goes on with what this worker knows, and ``sync`` catches up).
RECALL_WAIT_S = 0.25


def cost_of(nodes: int) -> int:
    """Points an operation of ``nodes`` nodes costs."""
    return max(1, math.ceil(nodes / 100))


@functools.lru_cache(maxsize=4096)
def address_caller(address: str) -> str:
    """An anonymous caller's key: its IPv4 address, or its IPv6 /64 (kept for the callers
    met lately: parsing an address is a good part of an anonymous request's charging)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"addr:{address[:64]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.ip_network((ip, 64), strict=False)}"
    return f"addr:{ip}"


def next_hour() -> dt.datetime:
    """The end of the current hour's window."""
    stamp = int(now().timestamp())
    return dt.datetime.fromtimestamp(stamp - stamp % HOUR + HOUR, dt.UTC)


@dataclass(frozen=True)
class Spent:
    """A caller's budget after an operation was charged (or, refused or a dry run, not)."""

    allowed: bool
    cost: int
    limit: int
    used: int
    reset_at: dt.datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def retry_after(self) -> int:
        """Whole seconds until the hour's budget is renewed."""
        return max(1, math.ceil((self.reset_at - now()).total_seconds()))


class _Bucket:
    __slots__ = ("pending", "total", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.total = 0  # every worker's spending this hour, as last read, plus ours since
        self.pending = 0  # ours, not yet added to the shared count


class Budgets:
    """The hour's spending of the callers this worker has seen."""

    def __init__(self, points: int, *, database_url: str | None = None, capacity: int = 100_000) -> None:
        self.points = points
        #: PostgreSQL: spending is shared through it, on a connection of the budgets' own (not
        #: the request pool's, so that a busy pool never delays it). None: this process alone.
        self.url = plain_postgres_url(database_url) if database_url is not None else None
        self.shared = database_url is not None
        self._conn: Any = None
        self.capacity = capacity
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        #: One statement at a time on the budgets' connection (``sync`` and ``recall``).
        self._lock = asyncio.Lock()
        #: Callers waiting for their first read, and the read that will answer them.
        self._wanted: dict[str, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.points > 0

    def limit_for(self, caller: str) -> int:
        return self.points // 5 if caller.startswith("addr:") else self.points

    def _bucket(self, caller: str) -> tuple[_Bucket, int]:
        stamp = int(now().timestamp())
        window = stamp - stamp % HOUR
        bucket = self._buckets.get(caller)
        if bucket is None or bucket.window != window:
            bucket = _Bucket(window)
            self._buckets[caller] = bucket
            while len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(caller)
        return bucket, window

    def charge(self, caller: str, cost: int, *, dry_run: bool = False) -> Spent:
        """Spend ``cost`` for ``caller`` unless that would pass its limit (then nothing is spent
        and ``allowed`` is false); a dry run spends nothing either way."""
        bucket, window = self._bucket(caller)
        limit = self.limit_for(caller)
        reset_at = dt.datetime.fromtimestamp(window + HOUR, dt.UTC)
        allowed = bucket.total + cost <= limit
        if allowed and not dry_run:
            bucket.total += cost
            bucket.pending += cost
        return Spent(allowed=allowed, cost=cost, limit=limit, used=bucket.total, reset_at=reset_at)

    # -- sharing through PostgreSQL ------------------------------------------------------------

    async def recall(self, caller: str) -> None:
        """Before a caller this worker has not seen this hour is charged: read what every
        worker spent for it. Callers met while a read runs are read together by the next one;
        the request waits at most ``RECALL_WAIT_S`` (then it goes on, and ``sync`` catches up)."""
        if not (self.shared and self.enabled) or self._task is None:
            return  # not sharing (SQLite, budgets off, or never started: an app without lifespan)
        stamp = int(now().timestamp())
        bucket = self._buckets.get(caller)
        if bucket is not None and bucket.window == stamp - stamp % HOUR:
            return
        waiting = self._wanted.get(caller)
        if waiting is None:
            waiting = self._wanted[caller] = asyncio.get_running_loop().create_future()
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read_wanted())
        # Not cancelled by the wait's end: the read goes on for the callers met after.
        await asyncio.wait({waiting}, timeout=RECALL_WAIT_S)

    async def _read_wanted(self) -> None:
        while self._wanted:
            wanted, self._wanted = self._wanted, {}
            stamp = int(now().timestamp())
            window = stamp - stamp % HOUR
            try:
                async with self._lock:
                    conn = await self._connection()
                    rows = await conn.fetch(
                        "SELECT caller, points FROM rate_spending WHERE window_start = $1 AND caller = ANY($2::text[])",
                        window,
                        list(wanted),
                        timeout=5,
                    )
                    for row in rows:
                        bucket, _ = self._bucket(row["caller"])
                        if bucket.window == window:
                            bucket.total = max(bucket.total, int(row["points"]) + bucket.pending)
            except Exception:
                await self._drop_connection()
                log.warning("could not read the rate budgets' shared count", exc_info=True)
            finally:
                for future in wanted.values():
                    if not future.done():
                        future.set_result(None)

    async def sync(self) -> None:
        """Add this worker's spending to the shared count and read every caller's total back."""
        async with self._lock:
            await self._sync()

    async def _sync(self) -> None:
        stamp = int(now().timestamp())
        window = stamp - stamp % HOUR
        current = [(c, b) for c, b in self._buckets.items() if b.window == window]
        if not current:
            return
        spent = [(c, b.pending) for c, b in current if b.pending]
        for _, bucket in current:
            bucket.pending = 0
        try:
            conn = await self._connection()
            if spent:
                await conn.execute(
                    "INSERT INTO rate_spending (caller, window_start, points) "
                    "SELECT unnest($1::text[]), $2, unnest($3::bigint[]) "
                    "ON CONFLICT (caller, window_start) "
                    "DO UPDATE SET points = rate_spending.points + EXCLUDED.points",
                    [c for c, _ in spent],
                    window,
                    [p for _, p in spent],
                )
            rows = await conn.fetch(
                "SELECT caller, points FROM rate_spending WHERE window_start = $1 AND caller = ANY($2::text[])",
                window,
                [c for c, _ in current],
            )
        except Exception:
            await self._drop_connection()
            for caller, points in spent:  # try again at the next sync
                kept = self._buckets.get(caller)
                if kept is not None and kept.window == window:
                    kept.pending += points
            raise
        totals = {row["caller"]: int(row["points"]) for row in rows}
        for caller, bucket in current:
            if caller in totals:
                # What every worker had added, plus what this one spent since the read.
                bucket.total = totals[caller] + bucket.pending

    async def _connection(self) -> Any:
        if self._conn is None:
            import asyncpg

            self._conn = await asyncpg.connect(self.url, timeout=5)
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def prune(self) -> None:
        """Drop past hours from the shared count."""
        stamp = int(now().timestamp())
        async with self._lock:
            conn = await self._connection()
            await conn.execute(
                "DELETE FROM rate_spending WHERE window_start < $1", stamp - stamp % HOUR - HOUR
            )

    async def _run(self, interval: float) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sync()
                ticks += 1
                if ticks % 600 == 0:
                    await self.prune()
            except Exception:  # the database may be away a moment: the next second tries again
                log.warning("could not share the rate budgets' spending", exc_info=True)

    async def start(self, interval: float = 1.0) -> None:
        if self.shared and self.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(interval))

    async def stop(self) -> None:
        if self._reader is not None:
            # A read in flight ends by itself (its statement has a timeout); cancelling it mid-
            # connect could leave a socket behind.
            await asyncio.wait({self._reader}, timeout=2)
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(Exception):
                await self.sync()
        await self._drop_connection()
