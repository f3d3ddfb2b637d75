"""One deadline per request for every wait on the database (``NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS``).

``admission.stage.Admission`` starts a ``Deadline`` for each GraphQL request over HTTP when the
request starts running (after its wait in the admission queue: the queue's delay is not taken
from its database waits) and keeps it in a context variable, which every task of the request
inherits. Our Tortoise engines
(``db_backends.asyncpg``, ``db_backends.sqlite``) bound their waits by it: on PostgreSQL the
wait for a connection of the request pool, on SQLite the wait for the one connection's lock. A
connection free at once is always taken; a wait ends at the deadline with ``DatabaseBusy``.

What follows depends on whether the request may have written:

- nothing written (a query, or a mutation that never held a connection): ``expired`` is set
  and ``Admission`` answers 503 with ``Retry-After`` and ``OVERLOADED`` instead of what the
  request would have answered;
- a mutation that held a connection (it may have written): the wait still ends, as an error
  of its field (coded ``OVERLOADED``), never a 503 that would invite the client to send it again.

Work a request leaves behind (tasks that outlive it), commands, listeners and WebSockets run
without a deadline.

The deadlines also tell background work when requests are running (``running``, ``idle``):
on SQLite, where everything shares one connection, maintenance starts a batch only when no
request runs (or after waiting ``idle``'s limit), so a request waits behind one batch at most,
not one per statement.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tortoise import connections

__all__ = ["DatabaseBusy", "Deadline", "background_turn", "current", "idle", "running", "wait"]

T = TypeVar("T")


class DatabaseBusy(Exception):
    """A wait for the database outlasted the request's deadline."""

    def __init__(self, timeout_ms: int) -> None:
        super().__init__(
            f"The database is busy: no connection within {timeout_ms} ms. Nothing more was done; retry shortly."
        )


class Deadline:
    """One request's deadline and what it did with the database."""

    __slots__ = ("at", "done", "expired", "timeout_ms", "writing", "wrote")

    def __init__(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms
        self.at = time.monotonic() + timeout_ms / 1000
        #: The request ended (or became a stream, ``release``): what it left running waits as
        #: long as it must, and it no longer counts among the running requests.
        self.done = False
        #: A mutation runs (set by the view): a connection it gets may write.
        self.writing = False
        #: A mutation held a connection: past the deadline, a field error, never a 503.
        self.wrote = False
        #: A wait ended at the deadline before anything could be written: answer 503.
        self.expired = False

    def remaining(self) -> float:
        return self.at - time.monotonic()


_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "nextgen_gql_db_deadline", default=None
)


def current() -> Deadline | None:
    """The running request's deadline (None outside a request, or once it ended)."""
    found = _CURRENT.get()
    return None if found is None or found.done else found


#: Requests between ``start`` and ``release``; the futures of ``idle``'s waiters.
_running = 0
_waiters: list[asyncio.Future[None]] = []


def running() -> int:
    """How many requests run now (a subscription's stream, once open, is not counted)."""
    return _running


def start(timeout_ms: int) -> tuple[Deadline, contextvars.Token[Deadline | None]]:
    global _running
    deadline = Deadline(timeout_ms)
    _running += 1
    return deadline, _CURRENT.set(deadline)


def release(deadline: Deadline) -> None:
    """The request's own work is over (it ended, or its answer became a long-lived stream): no
    deadline from here, and it no longer counts as running."""
    global _running
    if deadline.done:
        return
    deadline.done = True
    _running -= 1
    if _running == 0:
        for waiter in _waiters:
            if not waiter.done():
                waiter.set_result(None)
        _waiters.clear()


def stop(deadline: Deadline, token: contextvars.Token[Deadline | None]) -> None:
    release(deadline)
    _CURRENT.reset(token)


async def idle(limit: float) -> None:
    """Return when no request runs, or after ``limit`` seconds at most (work in the background
    waits for a quiet moment, but is never starved by a steady load)."""
    if _running == 0:
        return
    waiter = asyncio.get_running_loop().create_future()
    _waiters.append(waiter)
    try:
        await asyncio.wait_for(waiter, limit)
    except TimeoutError:
        pass
    finally:
        if waiter in _waiters:
            _waiters.remove(waiter)


#: How long a background batch on SQLite waits for the requests to pause, at most.
BACKGROUND_WAIT_S = 1.0


async def background_turn() -> None:
    """Before each batch of background work (maintenance's deletes, event pruning): on SQLite,
    whose one connection every request shares, wait for a moment when no request runs (at
    most ``BACKGROUND_WAIT_S``). PostgreSQL gives the work a connection of its own: no wait."""
    if connections.get("default").capabilities.dialect == "sqlite":
        await idle(BACKGROUND_WAIT_S)


def writing() -> None:
    """The request runs a mutation from here."""
    found = current()
    if found is not None:
        found.writing = True


async def wait(free: Callable[[], bool], acquire: Callable[[float | None], Awaitable[T]]) -> T:
    """``acquire(timeout)`` bounded by the request's deadline. ``free()``: a connection can be had
    without waiting (then it is taken even past the deadline). ``acquire`` raises
    ``TimeoutError`` when its timeout ends first."""
    deadline = current()
    if deadline is None:
        return await acquire(None)
    remaining = deadline.remaining()
    if remaining <= 0 and not free():
        _expire(deadline)
    try:
        got = await acquire(max(remaining, 0.05))
    except TimeoutError:
        _expire(deadline)
    if deadline.writing:
        deadline.wrote = True
    return got


def _expire(deadline: Deadline) -> None:
    if not deadline.wrote:
        deadline.expired = True
    raise DatabaseBusy(deadline.timeout_ms)
