"""The admission queue of one worker: a cap on requests running, a queue bounded by delay.

At most ``limit`` requests run at once (``NEXTGEN_GQL_MAX_IN_FLIGHT``). One more waits in a
first-in, first-out queue, for at most ``target`` seconds (``NEXTGEN_GQL_QUEUE_TARGET_MS``).
Whether it may wait at all is decided when it arrives, from the queue's recent delay:

- the queue drains one request per *start interval*, measured on the requests it started
  lately (a moving average of the time between two starts from the queue);
- a newcomer would wait about ``queued * interval`` for those ahead of it (Little's law), plus
  one more interval, or, when nothing has started for longer than that, the time since the
  last start (a queue that stopped draining says so at once, without waiting for a sample;
  the stall is counted once, not as the pace of every start): over ``target``, it
  is refused at once (``REFUSED``), before its body is read, so that its client learns it in
  the time of a refusal instead of after a wait that ends in one;
- one that was let in but has still not started when its ``target`` has passed (the estimate
  was wrong: the service slowed) is refused then (``TIMED_OUT``): no request waits longer.

This is CoDel's idea (Nichols and Jacobson; Facebook's "Fail at Scale", ACM Queue 2015) of
judging a queue by the delay it imposes rather than by its length, applied at the door: a
queue is good while it drains within the target, and what would make it stand is refused.
Why first-in, first-out and not Facebook's adaptive LIFO: docs/operations.md ("Overload").

The queue knows nothing of HTTP; ``admission.stage.Admission`` puts it on the request path.
The clock is injectable (tests drive it).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
from collections.abc import Callable

__all__ = ["Decision", "Queue", "Waiter"]

#: Weight of one sample in the moving average of the start interval.
_SMOOTHING = 0.05


class Decision(enum.Enum):
    """What became of a request at the door (or, for one that waited, at its start)."""

    STARTED = "started"
    QUEUED = "queued"
    REFUSED = "refused"
    TIMED_OUT = "timed_out"


class Waiter:
    """A request waiting in the queue: its future is set to ``STARTED`` (it holds a running
    place from then) or ``TIMED_OUT``."""

    __slots__ = ("arrived", "future", "timer", "waiting")

    def __init__(self, arrived: float, future: asyncio.Future[Decision]) -> None:
        self.arrived = arrived
        self.future = future
        self.timer: asyncio.TimerHandle | None = None
        #: Still counted in ``Queue.queued`` (not started, timed out or gone).
        self.waiting = True


class Queue:
    """One worker's running cap and waiting queue (see the module)."""

    def __init__(self, limit: int, target_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("the running limit must be at least 1")
        self.limit = limit
        self.target = target_s
        self.clock = clock
        #: Requests holding a running place.
        self.running = 0
        #: Requests waiting (live ones: a timed-out waiter leaves the count at once).
        self.queued = 0
        self._waiters: deque[Waiter] = deque()
        #: Moving average of the seconds between two starts from the queue (0: none seen yet).
        self.interval = 0.0
        self._last_start = clock()

    # -- the door --------------------------------------------------------------------------

    def predicted_wait(self, now: float | None = None) -> float:
        """How long a request arriving now would wait before it starts (0 when a place is free)."""
        now = self.clock() if now is None else now
        if self.running < self.limit and self.queued == 0:
            return 0.0
        # Those waiting start one per interval; the newcomer's turn comes an interval after them,
        # or, when nothing has started for longer than that (a stall), once the stall ends: the
        # stall delays the whole queue once, it is not taken for the pace of every start.
        return self.queued * self.interval + max(self.interval, now - self._last_start)

    def arrive(self) -> Decision | Waiter:
        """At a request's arrival: ``STARTED`` (it runs now and holds a place), ``REFUSED``
        (its wait would pass the target), or a ``Waiter`` to await (``wait``)."""
        now = self.clock()
        if self.running < self.limit and self.queued == 0:
            self.running += 1
            self._last_start = now
            return Decision.STARTED
        if self.predicted_wait(now) > self.target:
            return Decision.REFUSED
        waiter = Waiter(now, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        self.queued += 1
        delay = self.target - (self.clock() - now)
        waiter.timer = asyncio.get_running_loop().call_later(max(delay, 0.0), self._time_out, waiter)
        return waiter

    async def wait(self, waiter: Waiter) -> Decision:
        """``STARTED`` (the request holds a place now) or ``TIMED_OUT``. A request cancelled
        while it waits leaves the queue (and gives back a place it was just handed)."""
        try:
            return await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                if waiter.future.result() is Decision.STARTED:
                    self.release()
            else:
                self._leave(waiter)
            raise

    # -- the way out -----------------------------------------------------------------------

    def release(self) -> None:
        """A running request ended (or became a long-lived stream): its place goes to the
        oldest waiter, if any."""
        self.running -= 1
        while self._waiters and self.running < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.waiting:
                continue  # timed out or cancelled: left the count already
            if waiter.future.done():  # cancelled, its task not yet resumed to say so
                self._leave(waiter)
                continue
            now = self.clock()
            sample = now - max(self._last_start, waiter.arrived)
            self.interval = (
                sample if self.interval == 0 else self.interval + _SMOOTHING * (sample - self.interval)
            )
            self._last_start = now
            self.queued -= 1
            waiter.waiting = False
            self.running += 1
            if waiter.timer is not None:
                waiter.timer.cancel()
            waiter.future.set_result(Decision.STARTED)

    def _time_out(self, waiter: Waiter) -> None:
        if waiter.waiting:
            waiter.waiting = False
            self.queued -= 1
            if not waiter.future.done():
                waiter.future.set_result(Decision.TIMED_OUT)

    def _leave(self, waiter: Waiter) -> None:
        if waiter.timer is not None:
            waiter.timer.cancel()
        if waiter.waiting:
            waiter.waiting = False
            self.queued -= 1
