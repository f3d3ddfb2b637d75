"""The server keeps to its own ``Retry-After``: a connection answered ``503`` with
``Retry-After: N`` is not read again for N seconds.

A client refused because the service is overloaded (``OVERLOADED``) or because its database
is away (``DATABASE_UNAVAILABLE``) is told when to come back. Many do not listen: wrk, retry
libraries without back-off and impatient front ends send their next request on the same
keep-alive connection at once. Each such resend costs the worker a whole refusal (parsing,
the middleware, a log line: about 0.3 ms of Python), and with 2,048 of them in a closed loop
the workers spend their time refusing and almost nothing is served (issue 31 measured 0.01
of idle throughput). So the connection itself waits: once such an answer is written, the
worker stops reading that socket (``transport.pause_reading``) until the ``Retry-After``
has passed. What the client sends meanwhile stays in the kernel's buffer, unread and unparsed:
it costs nothing, and the request has not arrived yet (its queue delay and its refusal time,
measured from its arrival, are the server's own). Other connections are not touched, nor
is a client that waits as asked: it finds the connection read again when it comes back.

This is a uvicorn HTTP protocol (``serve`` runs uvicorn with it): the only layer that owns
the socket. It watches the answers the app writes (status and ``Retry-After`` of each
``http.response.start``); the app decides nothing here and knows nothing of it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

__all__ = ["MAX_HOLD_S", "PacedHttpToolsProtocol", "hold_seconds"]

#: The longest a connection is left unread, whatever a ``Retry-After`` says.
MAX_HOLD_S = 30.0


def hold_seconds(status: int, headers: Any) -> float:
    """How long to leave a connection unread after an answer: its ``Retry-After`` (delta
    seconds) when the answer is a ``503``, else 0."""
    if status != 503:
        return 0.0
    for name, value in headers:
        if name.lower() == b"retry-after":
            try:
                return min(max(float(value), 0.0), MAX_HOLD_S)
            except ValueError:
                return 0.0  # an HTTP date: not ours (the service sends seconds)
    return 0.0


class PacedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, pausing a connection's reads for the ``Retry-After`` of a
    ``503`` it answered (see the module)."""

    _held: asyncio.TimerHandle | None = None

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        async def watched(scope: Any, receive: Any, send: Any) -> None:
            async def sending(message: Any) -> None:
                if message["type"] == "http.response.start":
                    cycle.hold = hold_seconds(message["status"], message.get("headers", ()))  # type: ignore[attr-defined]
                await send(message)

            await app(scope, receive, sending)

        super()._start_asgi_task(cycle, watched)

    def on_response_complete(self) -> None:
        cycle = self.cycle
        super().on_response_complete()
        hold = getattr(cycle, "hold", 0.0)
        if hold > 0 and not self.transport.is_closing():
            self.flow.pause_reading()
            if self._held is not None:
                self._held.cancel()
            # The keep-alive timeout counts from when the connection is read again: a request
            # waiting in the kernel's buffer must not find its connection closed under it.
            if self.timeout_keep_alive_task is not None:
                self.timeout_keep_alive_task.cancel()
                self.timeout_keep_alive_task = None
            self._held = self.loop.call_later(hold, self._resume)

    def _resume(self) -> None:
        self._held = None
        if self.transport is None or self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.cycle is None or self.cycle.response_complete:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def connection_lost(self, exc: Exception | None) -> None:
        if self._held is not None:
            self._held.cancel()
            self._held = None
        super().connection_lost(exc)
