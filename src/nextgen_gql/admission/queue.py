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
- one that was let in but has still not started when the target has passed (the estimate
  was wrong: the service slowed) is refused then (``TIMED_OUT``): no request waits longer;
- a queue that has not been empty for ``STANDING_S`` (100 ms, CoDel's interval) is standing:
  the service is overloaded, not meeting a burst, and waiting longer would only add delay to
  what it serves, not throughput (the running places stay full either way). So is a worker
  that refused someone at the door in the last ``OVERLOADED_S`` (the ``Retry-After`` second:
  the refused come back together, to a queue that may have just emptied). Then a newcomer may
  not wait at all (``SHORT_TARGET_S``): it starts if a running place is free, else it is
  refused at the door. This is the controlled-delay queue of "Fail at Scale" (there: 5 ms
  while standing, 100 ms otherwise), taken to its end at the door: under overload a wait adds
  delay and no throughput (the places are full either way), and a request let in to wait may
  be refused late, after a wait, by a timer that lags behind an event loop busy with
  thousands of connections (measured: 25 ms let up to 1.1% of refusals come 500 ms late).
  One let in before keeps the whole target to start in, so that a misprediction costs it some
  waiting, not a refusal after a wait;
- the estimate keeps its own score: each request that waited compares the wait it had with
  the wait predicted at its arrival, and a moving average of that ratio (never below 1, at
  most 4) scales later predictions. Little's law holds for a steady pace; under a burst (many
  clients coming back at once) the pace falls while they are parsed, the queue drains slower
  than it did, and an uncorrected estimate lets in requests that then wait out the target
  and are refused late, after a wait, instead of at once.

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
#: Bounds of the correction of the predicted wait by its measured error.
_CALIBRATION = (1.0, 4.0)
#: A queue not empty for this long is standing (overload, not a burst).
STANDING_S = 0.1
#: The longest a newcomer may wait while the worker is overloaded: none (it starts if a running
#: place is free, and is refused at the door otherwise).
SHORT_TARGET_S = 0.0
#: How long a refusal at the door marks the worker overloaded (the ``Retry-After`` second: the
#: refused come back after it, all at once).
OVERLOADED_S = 1.0


class Decision(enum.Enum):
    """What became of a request at the door (or, for one that waited, at its start)."""

    STARTED = "started"
    QUEUED = "queued"
    REFUSED = "refused"
    TIMED_OUT = "timed_out"


class Waiter:
    """A request waiting in the queue: its future is set to ``STARTED`` (it holds a running
    place from then) or ``TIMED_OUT``."""

    __slots__ = ("arrived", "future", "predicted", "timer", "waiting")

    def __init__(self, arrived: float, future: asyncio.Future[Decision], predicted: float = 0.0) -> None:
        self.arrived = arrived
        #: The wait predicted at its arrival (uncorrected), to score the prediction.
        self.predicted = predicted
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
        #: Moving average of (wait had / wait predicted), bounded by ``_CALIBRATION``.
        self.calibration = 1.0
        self._last_start = clock()
        #: When the queue was last seen empty (by an arrival that found nobody waiting).
        self._empty_at = self._last_start
        #: When a newcomer was last refused at the door.
        self._refused_at = self._last_start - OVERLOADED_S

    # -- the door --------------------------------------------------------------------------

    def current_target(self, now: float | None = None) -> float:
        """The longest a request arriving now may wait: the target, or ``SHORT_TARGET_S`` while
        the worker is overloaded (its queue not empty for ``STANDING_S``, or someone refused at
        the door in the last ``OVERLOADED_S``)."""
        now = self.clock() if now is None else now
        if (self.queued and now - self._empty_at > STANDING_S) or now - self._refused_at < OVERLOADED_S:
            return min(self.target, SHORT_TARGET_S)
        return self.target

    def predicted_wait(self, now: float | None = None) -> float:
        """How long a request arriving now would wait before it starts (0 when a place is free)."""
        return self._little(now) * self.calibration

    def _little(self, now: float | None = None) -> float:
        """The wait Little's law predicts from the pace of recent starts, uncorrected."""
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
        if self.queued == 0:
            self._empty_at = now
        target = self.current_target(now)
        little = self._little(now)
        if little * self.calibration > target:
            self._refused_at = now
            return Decision.REFUSED
        waiter = Waiter(now, asyncio.get_running_loop().create_future(), little)
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
            self._score(waiter, now - waiter.arrived)
            self.queued -= 1
            waiter.waiting = False
            self.running += 1
            if waiter.timer is not None:
                waiter.timer.cancel()
            waiter.future.set_result(Decision.STARTED)

    def _score(self, waiter: Waiter, waited: float) -> None:
        """Fold how wrong the prediction of ``waiter``'s wait was into ``calibration``."""
        if waiter.predicted <= 0:
            return
        low, high = _CALIBRATION
        ratio = min(max(waited / waiter.predicted, low), high)
        self.calibration += _SMOOTHING * (ratio - self.calibration)

    def _time_out(self, waiter: Waiter) -> None:
        if waiter.waiting:
            self._score(waiter, self.clock() - waiter.arrived)
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
