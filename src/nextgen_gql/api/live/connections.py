"""Live connections of one process: WebSockets and server-sent-event streams.

Each connection knows who is signed in on it (the session, from ``connection_init``'s
token, the ``NextGenCSO`` cookie or the request's credentials) and what that account's
access hangs on (the courts it is a clerk of, the firm it administers). Once a second one
statement reads all of that again for every connection of the process
(``rows.live_sessions``): a connection whose session ended (signed out, password reset,
revoked, expired) is closed with a reason, within two seconds of the change; the others
see their new facts from the next event on. Every event is filtered with these facts by
the same rules as queries.

Limits: at most ``subscriptions_per_connection`` subscriptions on one WebSocket, and
``subscriptions_per_account`` on one worker for one account (or, signed out, one address).
Each subscription that runs is told to the observers (``services.events``:
``subscription.opened``, ``subscription.closed``; the metrics count the open ones).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nextgen_gql.models import Session
from nextgen_gql.services import events, rows
from nextgen_gql.services.court_catalog import LiveCourts
from nextgen_gql.services.event_hub import EventHub, EventStream
from nextgen_gql.services.rows import SessionFacts
from nextgen_gql.settings import Settings

__all__ = ["CLOSE", "LiveConnection", "LiveConnections", "safe_reason"]

log = logging.getLogger("nextgen_gql.live")


class CLOSE:
    """WebSocket close codes (graphql-transport-ws's, and RFC 6455's) and their reasons."""

    GOING_AWAY = 1001  # the service stops: reconnect (to another instance)
    TRY_AGAIN_LATER = 1013  # too slow: reconnect and resume with after
    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401  # the session ended: sign in again (graphql-ws does not retry this one)
    FORBIDDEN = 4403
    TIMEOUT = 4408
    SESSION_ENDED = "Unauthorized: the session ended (signed out, password reset or session revoked)"


def safe_reason(reason: str) -> str:
    """A close reason a WebSocket can carry: at most 123 bytes of UTF-8."""
    raw = reason.encode()
    if len(raw) <= 123:
        return reason
    return raw[:120].decode(errors="ignore") + "..."


@dataclass(eq=False)
class LiveConnection:
    """One WebSocket, or one stream of server-sent events."""

    registry: LiveConnections
    #: The caller's address (the per-address limit of signed-out connections).
    address: str
    #: Called once, with a close code and reason, to end the connection.
    on_end: Callable[[int, str], None]
    session: Session | None = None
    facts: SessionFacts | None = None
    subscriptions: int = 0
    ended: bool = False
    #: The request id of what it logs (one per connection).
    request_id: str = "-"
    _counted: bool = field(default=False, repr=False)

    @property
    def account_id(self) -> int | None:
        return self.session.account_id if self.session is not None else None

    @property
    def clerk_courts(self) -> frozenset[str]:
        return self.facts.clerk_courts if self.facts is not None else frozenset()

    @property
    def cap_key(self) -> str:
        return f"account:{self.account_id}" if self.account_id is not None else f"address:{self.address}"

    def known(self) -> dict[str, object]:
        """The viewer's facts as a request's context memoises them (``Context.begin_event``)."""
        return {
            "session": self.session,
            "clerk_courts": self.clerk_courts,
            "admin_firm_id": self.facts.admin_firm_id if self.facts is not None else None,
        }

    def end(self, code: int, reason: str) -> None:
        """End the connection (once), with a close code and a reason a person can read."""
        if self.ended:
            return
        self.ended = True
        self.on_end(code, safe_reason(reason))

    async def subscribe(self, topic: str, after: int | None) -> EventStream:
        """The events of ``topic`` for this connection; too slow a reader ends the connection."""
        limit = self.registry.settings.subscription_queue

        def too_slow() -> None:
            self.end(
                CLOSE.TRY_AGAIN_LATER,
                f"Too slow: {limit} events were waiting. Reconnect and resume with after (the last cursor).",
            )

        return await self.registry.hub.subscribe(topic, after=after, on_slow=too_slow)


class LiveConnections:
    """The process's live connections, their limits, and the check of their sessions.

    Example:
        connections = LiveConnections(settings, hub, live_courts)
        await connections.start()          # in the app's lifespan
        connection = connections.open(address, on_end)
        await connections.sign_in(connection, session)
        refusal = connections.acquire(connection)   # before each subscription; release after
        connections.close(connection)
        await connections.stop()           # ends every connection (1001)
    """

    #: How often every connection's session is checked: a revoked token ends within 2 s.
    WATCH_SECONDS = 1.0

    def __init__(self, settings: Settings, hub: EventHub, courts: LiveCourts) -> None:
        self.settings = settings
        self.hub = hub
        #: The courts served (``courtsChanged``, and the courts events are read against).
        self.courts = courts
        self._open: set[LiveConnection] = set()
        self._per_key: collections.Counter[str] = collections.Counter()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._open)

    @property
    def subscriptions(self) -> int:
        return sum(self._per_key.values())

    def open(self, address: str, on_end: Callable[[int, str], None], request_id: str = "-") -> LiveConnection:
        connection = LiveConnection(self, address, on_end, request_id=request_id)
        self._open.add(connection)
        return connection

    def close(self, connection: LiveConnection) -> None:
        self._open.discard(connection)
        while connection.subscriptions:
            self.release(connection)

    async def sign_in(self, connection: LiveConnection, session: Session | None) -> None:
        """The connection's session (None: anonymous), with its facts read now."""
        connection.session = session
        if session is not None:
            found = await rows.live_sessions([session.id], logger=log)
            connection.facts = found.get(session.id)
            if connection.facts is None:  # ended between the look-up and now
                connection.end(CLOSE.UNAUTHORIZED, CLOSE.SESSION_ENDED)

    def acquire(self, connection: LiveConnection) -> str | None:
        """Count one more subscription; the reason it is refused (a limit), or None."""
        per_connection = self.settings.subscriptions_per_connection
        per_account = self.settings.subscriptions_per_account
        if connection.subscriptions >= per_connection:
            return f"At most {per_connection} subscriptions at once on one connection: complete one first."
        if self._per_key[connection.cap_key] >= per_account:
            who = "account" if connection.account_id is not None else "address"
            return f"At most {per_account} subscriptions at once for one {who}: complete one first."
        connection.subscriptions += 1
        self._per_key[connection.cap_key] += 1
        events.emit("subscription.opened", subject_id=connection.account_id)
        return None

    def release(self, connection: LiveConnection) -> None:
        if connection.subscriptions <= 0:
            return
        connection.subscriptions -= 1
        events.emit("subscription.closed", subject_id=connection.account_id)
        key = connection.cap_key
        self._per_key[key] -= 1
        if self._per_key[key] <= 0:
            del self._per_key[key]

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="live-sessions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._stopping()

    def stop_on_signals(self) -> Callable[[], None]:
        """End every live connection as soon as the server is told to stop (SIGINT, SIGTERM),
        before it waits for the requests in flight: a stream of server-sent events never ends
        by itself, and would hold the server for its whole graceful-shutdown time. Chains the
        handlers the server installed (call this during start-up); returns the function that
        puts them back. Does nothing outside the main thread (where handlers cannot be set)."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        loop = asyncio.get_running_loop()
        previous: dict[int, Any] = {}

        def stopping(signum: int, frame: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self._stopping)
            before = previous.get(signum)
            if callable(before):
                before(signum, frame)
            elif before == signal.SIG_DFL:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, stopping)

        def restore() -> None:
            for signum, before in previous.items():
                if signal.getsignal(signum) is stopping:
                    signal.signal(signum, before)

        return restore

    def _stopping(self) -> None:
        for connection in list(self._open):
            connection.end(CLOSE.GOING_AWAY, "The service is stopping: reconnect and resume with after.")

    async def check_sessions(self) -> None:
        """End the connections whose session ended; give the others their current facts."""
        signed_in = [c for c in self._open if c.session is not None and not c.ended]
        if not signed_in:
            return
        found = await rows.live_sessions({c.session.id for c in signed_in if c.session}, logger=log)
        for connection in signed_in:
            assert connection.session is not None
            facts = found.get(connection.session.id)
            if facts is None:
                connection.end(CLOSE.UNAUTHORIZED, CLOSE.SESSION_ENDED)
            else:
                connection.facts = facts

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.WATCH_SECONDS)
            try:
                await self.check_sessions()
            except Exception:  # the database is away for a moment: keep the connections, try again
                log.warning("live: could not check the sessions of live connections", exc_info=True)
