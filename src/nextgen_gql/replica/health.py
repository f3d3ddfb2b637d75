"""Whether the replica is fit to read from, and how far it has replayed: one worker's view.

A check reads the database's flushed WAL position (``pg_current_wal_flush_lsn()``) and then
the replica's replayed one (``pg_last_wal_replay_lsn()``, with ``pg_is_in_recovery()``). Each
check keeps the database's position with the moment it was read; the replica's lag is the age
of the oldest kept position it has not replayed yet (zero when it has replayed the newest):
"the replica lacks a change the database had flushed that long ago". This holds whether the
replica stopped replaying (``pg_wal_replay_pause()``), stopped receiving (its link to the
database broke) or is merely slow, and an idle database does not make it look late.

Checks run in one task per worker, when requests ask for a state older than
``CHECK_EVERY_S`` (an idle worker checks nothing). A request uses the state it finds: a state
younger than ``STALE_S`` is used while a check runs; an older one that said "usable" is waited
for (at most ``CHECK_TIMEOUT_S``), so that a worker idle for minutes does not trust an old
answer. A replica that cannot be reached is tried again every ``RETRY_S`` at most.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = [
    "CHECK_EVERY_S",
    "CHECK_TIMEOUT_S",
    "RETRY_S",
    "STALE_S",
    "Positions",
    "ReplicaHealth",
    "ReplicaState",
]

log = logging.getLogger("nextgen_gql.replica")

#: A state younger than this is used as it is.
CHECK_EVERY_S = 0.1
#: A usable state older than this is not trusted without a new check (waited for).
STALE_S = 1.0
#: The longest a check may take (each server's statement and connection included).
CHECK_TIMEOUT_S = 1.0
#: A replica left aside because it could not be reached is tried again this often at most.
RETRY_S = 1.0
#: The database positions kept for measuring the lag: enough for an hour of checks.
MAX_SAMPLES = 40_000


@dataclass(frozen=True, slots=True)
class ReplicaState:
    """The replica as last checked."""

    #: Reads may go to it.
    usable: bool
    #: The WAL position it has replayed (bytes; 0 when unknown).
    replay_lsn: int
    #: How far behind it is, in seconds (None when it could not be read).
    lag_s: float | None
    #: Why it is left aside: ``down``, ``lagging`` or ``not_replica``; None when usable.
    why_not: str | None = None
    #: What a log line says about it.
    detail: str = ""


#: (the database's flushed position, whether the replica is in recovery, its replayed position)
Positions = tuple[int, bool, int | None]


class ReplicaHealth:
    """The state of one replica for one worker (``current``), kept by checks run in its own task.

    Args:
        max_lag_ms: the replica is left aside while it is further behind than this.
        database_position: reads the database's flushed WAL position.
        replica_position: reads whether the replica is in recovery, and its replayed position.
        clock: monotonic seconds (tests give their own).
    """

    def __init__(
        self,
        max_lag_ms: int,
        database_position: Callable[[], Awaitable[int]],
        replica_position: Callable[[], Awaitable[tuple[bool, int | None]]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_lag_s = max_lag_ms / 1000
        self._database_position = database_position
        self._replica_position = replica_position
        self._clock = clock
        self.state: ReplicaState | None = None
        self._checked_at = float("-inf")
        self._samples: collections.deque[tuple[float, int]] = collections.deque(maxlen=MAX_SAMPLES)
        self._wanted = asyncio.Event()
        self._checked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Called with the reason each time the replica is left aside (metrics).
        self.on_set_aside: Callable[[str], None] | None = None

    async def start(self) -> ReplicaState:
        """Check once (start-up says where reads go), then keep checking on demand."""
        await self.check()
        self._task = asyncio.create_task(self._run(), name="replica-health")
        assert self.state is not None
        return self.state

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def current(self) -> ReplicaState | None:
        """The state a request should act on (None: not known; read from the database)."""
        age = self._clock() - self._checked_at
        if age >= CHECK_EVERY_S:
            self._wanted.set()
        state = self.state
        if state is not None and (age < STALE_S or not state.usable):
            return state
        if self._task is None:
            return None
        checked = self._checked
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S + 0.5):
                await checked.wait()
        except TimeoutError:
            return None
        return self.state

    def lost(self, error: BaseException) -> None:
        """A read on the replica found it gone: left aside at once (the next check may bring it back)."""
        self._set(ReplicaState(False, 0, None, "down", f"a read failed ({type(error).__name__}: {error})"))
        self._checked_at = self._clock()

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            await self.check()
            if self.state is not None and self.state.why_not == "down":
                await asyncio.sleep(RETRY_S)

    async def check(self) -> None:
        """Read both positions and settle the state."""
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                flushed = await self._database_position()
        except Exception as exc:  # the database itself is away: its reads fail anyway; keep the state
            log.debug("replica check: the database's position could not be read (%s)", type(exc).__name__)
            self._done()
            return
        at = self._clock()
        self._samples.append((at, flushed))
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                in_recovery, replayed = await self._replica_position()
        except Exception as exc:
            self._set(
                ReplicaState(False, 0, None, "down", f"cannot be reached ({type(exc).__name__}: {exc})")
            )
            self._done()
            return
        if not in_recovery or replayed is None:
            self._set(
                ReplicaState(
                    False,
                    0,
                    None,
                    "not_replica",
                    "is not in recovery (promoted, or not a streaming replica): its data may differ",
                )
            )
            self._done()
            return
        lag = self._lag(replayed, self._clock())
        if lag > self.max_lag_s:
            detail = f"is {lag:.1f} s behind, over the {self.max_lag_s * 1000:.0f} ms allowed"
            self._set(ReplicaState(False, replayed, lag, "lagging", detail))
        else:
            self._set(ReplicaState(True, replayed, lag, None, f"is {lag:.1f} s behind"))
        self._done()

    def _lag(self, replayed: int, now: float) -> float:
        """The age of the oldest kept database position the replica has not replayed (0: none)."""
        samples = self._samples
        while len(samples) > 1 and samples[0][1] <= replayed:
            samples.popleft()
        first_at, first_position = samples[0]
        return 0.0 if first_position <= replayed else max(0.0, now - first_at)

    def _done(self) -> None:
        self._checked_at = self._clock()
        checked, self._checked = self._checked, asyncio.Event()
        checked.set()

    def _set(self, state: ReplicaState) -> None:
        before = self.state
        self.state = state
        if state.usable and (before is None or not before.usable):
            log.info("replica: in use, it %s", state.detail)
        elif not state.usable and (before is None or before.usable or before.why_not != state.why_not):
            log.warning(
                "replica: left aside (%s), its reads go to the database: it %s", state.why_not, state.detail
            )
            if self.on_set_aside is not None and state.why_not is not None:
                self.on_set_aside(state.why_not)
