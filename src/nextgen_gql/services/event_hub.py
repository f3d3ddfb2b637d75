"""The live-updates hub of one process: committed events, handed to its subscribers.

Where events come from:

- **PostgreSQL**: each committed event arrives as a ``NOTIFY`` on ``nextgen_events``
  (``services.outbox.publish``), on the process's one listener connection
  (``services.listener``), in commit order; one task hands them out. When that connection
  drops and comes back, every subscriber reads its topic from the outbox after the last
  event it got (what was committed meanwhile), then goes on with live events.
- **SQLite** (one process): a task reads the outbox after the last id it saw, ten times a
  second; ids follow commit order there, so nothing is missed or repeated.

Each subscriber (``EventStream``) takes live events from the moment it subscribes, dropping
those up to its position: the last event of the topic when it subscribed, or the cursor it
resumed from (a resuming one first reads what came after the cursor from the outbox). Events
of a topic reach it once each, in commit order. Live events wait in a bounded queue; a subscriber that falls
``queue_size`` events behind while it should be keeping up is a slow consumer: it is told
(``on_slow``) and its stream ends (``SlowConsumer``), instead of being buffered without
bound. While it is reading the outbox on purpose (resuming), an overflowing queue is just
dropped: the outbox read covers it.

A maintenance task prunes events older than the resume window (``outbox.prune``). Each
event handed to subscribers is told to the observers (``services.events``:
``events.fanned_out``, with how many got it).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import deque
from collections.abc import Callable

from nextgen_gql.db import is_postgres_url
from nextgen_gql.services import events, outbox
from nextgen_gql.services.listener import PgListener
from nextgen_gql.services.outbox import Event

__all__ = ["EventHub", "EventStream", "SlowConsumer"]

log = logging.getLogger("nextgen_gql.live")

#: Events read from the outbox at a time.
PAGE = 200


class SlowConsumer(Exception):
    """The subscriber fell too far behind: it should resume later from its last cursor."""


class EventStream:
    """One subscriber's events of one topic, in commit order (an async iterator)."""

    __slots__ = (
        "_backlog",
        "_closed",
        "_hub",
        "_limit",
        "_need_read",
        "_on_slow",
        "_queue",
        "_reading",
        "_slow",
        "_waiter",
        "last_id",
        "topic",
    )

    def __init__(
        self, hub: EventHub, topic: str, position: int, limit: int, on_slow: Callable[[], None] | None
    ) -> None:
        self._hub = hub
        self.topic = topic
        #: The id of the last event handed out (or the position it started from).
        self.last_id = position
        self._limit = limit
        self._on_slow = on_slow
        self._queue: deque[Event] = deque()
        self._backlog: deque[Event] = deque()
        self._need_read = True  # a resuming subscriber reads what came after its cursor first
        self._reading = False
        self._slow = False
        self._closed = False
        self._waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def offer(self, event: Event) -> None:
        """A live event of the topic (the hub calls this, in commit order)."""
        if self._closed or self._slow:
            return
        if len(self._queue) >= self._limit:
            if self._need_read or self._reading or self._backlog:
                # Behind on purpose (reading the outbox): that read covers what is dropped here.
                self._queue.clear()
                self._need_read = True
            else:
                self._slow = True
                self._queue.clear()
                self._wake()
                if self._on_slow is not None:
                    self._on_slow()
                return
        self._queue.append(event)
        self._wake()

    def reread(self) -> None:
        """Live events may have been missed (the listener reconnected): read the outbox next."""
        self._need_read = True
        self._wake()

    def close(self) -> None:
        """End the stream (the subscriber went away, or the hub stops)."""
        self._closed = True
        self._queue.clear()
        self._backlog.clear()
        self._hub._forget(self)
        self._wake()

    def __aiter__(self) -> EventStream:
        return self

    async def aclose(self) -> None:
        self.close()

    async def __anext__(self) -> Event:
        while True:
            if self._slow:
                raise SlowConsumer(f"{self._limit} events were waiting for this subscriber")
            if self._closed:
                raise StopAsyncIteration
            if self._backlog:
                event = self._backlog.popleft()
            elif self._need_read:
                self._need_read = False
                self._reading = True
                try:
                    batch = await outbox.read_after(self.topic, self.last_id, PAGE)
                finally:
                    self._reading = False
                if len(batch) == PAGE:
                    self._need_read = True
                self._backlog.extend(batch)
                continue
            elif self._queue:
                event = self._queue.popleft()
            else:
                self._waiter = asyncio.get_running_loop().create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
                continue
            if event.id > self.last_id:
                self.last_id = event.id
                return event


class EventHub:
    """This process's subscribers, and the events they are waiting for.

    Example:
        hub = EventHub(settings.connection_url, listener=listener, queue_size=256,
                       retention=dt.timedelta(days=1))
        await hub.start()                               # in the app's lifespan
        stream = await hub.subscribe("court:mad", after=None, on_slow=...)
        async for event in stream: ...                  # stream.close() when done
        await hub.stop()
    """

    def __init__(
        self,
        database_url: str,
        *,
        listener: PgListener | None = None,
        queue_size: int = 256,
        retention: dt.timedelta = dt.timedelta(days=1),
        poll_seconds: float = 0.1,
        prune_seconds: float = 60.0,
    ) -> None:
        self.postgres = is_postgres_url(database_url)
        self.queue_size = queue_size
        self.retention = retention
        self.poll_seconds = poll_seconds
        self.prune_seconds = prune_seconds
        self._topics: dict[str, set[EventStream]] = {}
        self._notified: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._last_read = 0
        self._own_listener = False
        if self.postgres and listener is None:
            listener = PgListener(database_url)
            self._own_listener = True
        self.listener = listener
        if listener is not None:
            listener.listen(outbox.CHANNEL, self._notified.put_nowait, on_reconnect=self._reconnected)

    @property
    def subscribers(self) -> int:
        return sum(len(streams) for streams in self._topics.values())

    async def start(self) -> None:
        if self.postgres:
            self._tasks.append(asyncio.create_task(self._dispatch(), name="events-dispatch"))
            if self.listener is not None and self._own_listener:
                await self.listener.start()
        else:
            self._last_read = await outbox.last_id()
            self._tasks.append(asyncio.create_task(self._poll(), name="events-poll"))
        self._tasks.append(asyncio.create_task(self._prune(), name="events-prune"))

    async def stop(self) -> None:
        if self.listener is not None and self._own_listener:
            await self.listener.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for streams in list(self._topics.values()):
            for stream in list(streams):
                stream.close()

    async def subscribe(
        self, topic: str, *, after: int | None, on_slow: Callable[[], None] | None = None
    ) -> EventStream:
        """The events of ``topic`` after the id ``after`` (a resuming subscriber's cursor), or
        from now on. Close the stream when done.

        The stream takes live events before its position is read: whatever commits after the
        read comes live (ids follow commit order within a topic), whatever committed before
        has an id at most the position and is dropped; so only a resuming stream reads the
        outbox first."""
        stream = EventStream(self, topic, after or 0, self.queue_size, on_slow)
        self._topics.setdefault(topic, set()).add(stream)
        if after is None:
            stream._need_read = False
            stream._reading = True  # meanwhile an overflowing queue is dropped (and read back)
            try:
                stream.last_id = await outbox.last_id(topic)
            except BaseException:
                stream.close()
                raise
            finally:
                stream._reading = False
        return stream

    def _forget(self, stream: EventStream) -> None:
        streams = self._topics.get(stream.topic)
        if streams is not None:
            streams.discard(stream)
            if not streams:
                del self._topics[stream.topic]

    def _hand_out(self, event: Event) -> None:
        streams = self._topics.get(event.topic)
        if not streams:
            return
        for stream in list(streams):
            stream.offer(event)
        events.emit("events.fanned_out", court=event.court, count=len(streams))

    def _reconnected(self) -> None:
        for streams in self._topics.values():
            for stream in streams:
                stream.reread()

    async def _dispatch(self) -> None:
        while True:
            payload = await self._notified.get()
            try:
                event = Event.from_json(payload)
            except Exception:  # not ours to fail on: say so and go on
                log.warning("events: a notification that is not an event: %.200r", payload)
                continue
            self._hand_out(event)

    async def _poll(self) -> None:
        while True:
            try:
                batch = await outbox.read_since(self._last_read, PAGE)
            except Exception:  # the database is away for a moment: try again
                log.warning("events: could not read the outbox", exc_info=True)
                batch = []
            for event in batch:
                self._last_read = event.id
                self._hand_out(event)
            if len(batch) < PAGE:
                await asyncio.sleep(self.poll_seconds)

    async def _prune(self) -> None:
        while True:
            await asyncio.sleep(self.prune_seconds)
            try:
                pruned = await outbox.prune(self.retention)
            except Exception:
                log.warning("events: could not prune the outbox", exc_info=True)
                continue
            if pruned:
                log.info("events: pruned %d events older than the resume window", pruned)
