"""One PostgreSQL ``LISTEN`` connection per process, shared by whatever follows the database.

``LISTEN`` needs a connection of its own, held for the listener's life (not one from the
request pool, and not through a transaction-pooling PgBouncer). The court catalog
(``services.court_catalog``) and the live-updates hub (``services.event_hub``) each listen
on a channel of this one connection. When the connection drops (or stops answering its
ping), it is opened again with a growing delay, every channel is listened to again, and
each follower is told (``on_reconnect``) so that it reads what it may have missed; it is
told on the first connect as well.

A ``NOTIFY`` sent inside a transaction is delivered when the transaction commits, in
commit order, and not at all if it rolls back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from nextgen_gql.db import DIRECT_SERVER_SETTINGS, plain_postgres_url

__all__ = ["PgListener", "notify"]

log = logging.getLogger("nextgen_gql.listener")


async def notify(conn: BaseDBAsyncClient, channel: str, payload: str = "") -> None:
    """The sending side: ``NOTIFY channel`` in ``conn``'s transaction (delivered at commit, not
    at all on a rollback). On PostgreSQL only: SQLite serves one process, told in-process."""
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query("SELECT pg_notify($1, $2)", [channel, payload])


@dataclass
class _Channel:
    name: str
    on_notify: Callable[[str], None]
    on_reconnect: Callable[[], None] | None


class PgListener:
    """A process's ``LISTEN`` connection.

    Example:
        listener = PgListener(settings.connection_url)
        listener.listen("nextgen_courts", on_notify=lambda payload: ..., on_reconnect=...)
        await listener.start()   # in the app's lifespan
        await listener.stop()
    """

    #: How often a quiet connection is pinged: a connection that died silently is noticed then.
    PING_SECONDS = 5.0

    def __init__(self, database_url: str) -> None:
        self.url = plain_postgres_url(database_url)
        self._channels: list[_Channel] = []
        self._task: asyncio.Task[None] | None = None
        #: Set while connected and listening (tests wait on it).
        self.listening = asyncio.Event()

    def listen(
        self,
        channel: str,
        on_notify: Callable[[str], None],
        on_reconnect: Callable[[], None] | None = None,
    ) -> None:
        """Follow ``channel`` from the next (re)connect on: ``on_notify(payload)`` for each
        notification, ``on_reconnect()`` once listening (notifications may have been missed)."""
        self._channels.append(_Channel(channel, on_notify, on_reconnect))

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="pg-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.listening.clear()

    async def _run(self) -> None:
        import asyncpg

        delay = 0.2
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self.url, server_settings=DIRECT_SERVER_SETTINGS)
                closed = asyncio.Event()
                connection.add_termination_listener(lambda _c, closed=closed: closed.set())
                for channel in self._channels:
                    await connection.add_listener(
                        channel.name, lambda _c, _pid, _name, payload, ch=channel: ch.on_notify(payload)
                    )
                self.listening.set()
                for channel in self._channels:
                    if channel.on_reconnect is not None:
                        channel.on_reconnect()  # something may have come while no one listened
                delay = 0.2
                while not closed.is_set():  # a connection that died silently fails the ping
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(closed.wait(), self.PING_SECONDS)
                    if not closed.is_set():
                        await asyncio.wait_for(connection.fetchval("SELECT 1"), self.PING_SECONDS)
                log.warning("the LISTEN connection closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("cannot LISTEN (retrying in %.1f s)", delay, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                self.listening.clear()
                if connection is not None and not connection.is_closed():
                    connection.terminate()  # at once: stopping never waits on the network
