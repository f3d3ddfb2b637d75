"""In-process clients for live updates: a WebSocket and a stream of server-sent events, spoken
in ASGI straight to the app, in the test's own event loop (``httpx.ASGITransport`` neither
opens WebSockets nor streams a response).

The WebSocket client answers the server's close as a browser does (a ``websocket.disconnect``
follows), and can hold back: with ``backlog`` set, the app's sends wait once that many
messages are unread, as a socket whose reader stalled makes them wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

__all__ = ["Closed", "EventStream", "GqlSocket", "Refused", "event_stream", "gql_socket"]

WAIT = 5.0


class Closed(Exception):
    """The server closed the socket."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class Refused(Exception):
    """The server refused the handshake with an HTTP answer (or a close before accepting)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"refused {status}: {body[:300]!r}")
        self.status = status
        self.body = body


def _headers(headers: dict[str, str] | None, host: str = "testserver") -> list[tuple[bytes, bytes]]:
    sent = {"host": host, **{k.lower(): v for k, v in (headers or {}).items()}}
    return [(k.encode(), v.encode()) for k, v in sent.items()]


class GqlSocket:
    """A WebSocket to the app, with the graphql-transport-ws messages as helpers."""

    def __init__(
        self,
        app: Any,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        subprotocols: Iterable[str] = ("graphql-transport-ws",),
        query_string: bytes = b"",
        backlog: int = 0,
    ) -> None:
        self.scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query_string,
            "headers": _headers(headers),
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": list(subprotocols),
            "extensions": {"websocket.http.response": {}},
        }
        self.app = app
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=backlog)
        self._task: asyncio.Task[None] | None = None
        self.subprotocol: str | None = None
        self.closed: Closed | None = None
        self.sent_close = False

    async def _receive(self) -> dict[str, Any]:
        return await self._to_app.get()

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close" and not self.sent_close:
            self.sent_close = True
            self._to_app.put_nowait({"type": "websocket.disconnect", "code": message.get("code", 1000)})
        await self._from_app.put(message)

    async def __aenter__(self) -> GqlSocket:
        self._task = asyncio.create_task(self.app(self.scope, self._receive, self._send))
        await self._to_app.put({"type": "websocket.connect"})
        first = await self._next_raw()
        if first["type"] == "websocket.accept":
            self.subprotocol = first.get("subprotocol")
            return self
        if first["type"] == "websocket.http.response.start":
            body = b""
            while True:
                part = await self._next_raw()
                body += part.get("body", b"")
                if not part.get("more_body"):
                    break
            await self._finish()
            raise Refused(first["status"], body)
        if first["type"] == "websocket.close":
            await self._finish()
            raise Refused(403, b"closed before accepting")
        raise AssertionError(first)

    async def __aexit__(self, *exc: object) -> None:
        if not self.sent_close:
            self.sent_close = True
            await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        await self._finish()

    async def _finish(self) -> None:
        assert self._task is not None
        deadline = asyncio.get_running_loop().time() + WAIT
        while not self._task.done() and asyncio.get_running_loop().time() < deadline:
            # Drain, so that a send waiting on a full queue goes on.
            with contextlib.suppress(asyncio.QueueEmpty):
                self._from_app.get_nowait()
            await asyncio.wait({self._task}, timeout=0.05)
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            exception = await self._task
            assert exception is None

    async def _next_raw(self, within: float = WAIT) -> dict[str, Any]:
        return await asyncio.wait_for(self._from_app.get(), within)

    async def send(self, message: object) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": orjson.dumps(message).decode()})

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._to_app.put({"type": "websocket.receive", "bytes": data})

    async def receive(self, within: float = WAIT) -> dict[str, Any]:
        """The next message from the server; ``Closed`` if it closed the socket instead."""
        if self.closed is not None:
            raise self.closed
        raw = await self._next_raw(within)
        if raw["type"] == "websocket.close":
            self.closed = Closed(raw.get("code", 1000), raw.get("reason") or "")
            raise self.closed
        assert raw.get("text") is not None, f"graphql-transport-ws messages are text frames: {raw}"
        message: dict[str, Any] = orjson.loads(raw["text"])
        return message

    async def closed_with(self, within: float = WAIT) -> Closed:
        """Read until the server closes the socket (pings answered on the way); its close."""
        while True:
            try:
                message = await self.receive(within)
            except Closed as closed:
                return closed
            if message.get("type") == "ping":
                await self.send({"type": "pong"})

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.send({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        ack = await self.message()
        assert ack["type"] == "connection_ack", ack
        return ack

    async def subscribe(
        self, id: str, query: str | None = None, variables: dict[str, Any] | None = None, **payload: Any
    ) -> None:
        body: dict[str, Any] = dict(payload)
        if query is not None:
            body["query"] = query
        if variables is not None:
            body["variables"] = variables
        await self.send({"type": "subscribe", "id": id, "payload": body})

    async def message(self, within: float = WAIT) -> dict[str, Any]:
        """The next message that is not a ping (pings are answered)."""
        while True:
            message = await self.receive(within)
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def next(self, id: str, within: float = WAIT) -> dict[str, Any]:
        """The payload of the next ``next`` message of ``id`` (fails on anything else)."""
        message = await self.message(within)
        assert message.get("id") == id and message["type"] == "next", message
        payload: dict[str, Any] = message["payload"]
        return payload

    async def quiet(self, seconds: float = 0.5) -> None:
        """Nothing comes for ``seconds`` (pings excepted)."""
        with contextlib.suppress(TimeoutError):
            message = await self.message(seconds)
            raise AssertionError(f"unexpected message: {message}")


def gql_socket(app: Any, path: str = "/graphql", **kw: Any) -> GqlSocket:
    return GqlSocket(app, path, **kw)


class EventStream:
    """A response of server-sent events, read as it comes."""

    def __init__(
        self, app: Any, method: str, path: str, headers: dict[str, str], body: bytes, query_string: bytes
    ) -> None:
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query_string,
            "headers": _headers({**headers, "content-length": str(len(body))}),
            "client": ("127.0.0.1", 50001),
            "server": ("testserver", 80),
        }
        self.app = app
        self.body = body
        self._chunks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._disconnect = asyncio.Event()
        self._body_sent = False
        self._task: asyncio.Task[None] | None = None
        self.status = 0
        self.headers: dict[str, str] = {}
        self._buffer = b""
        self.finished = False

    async def _receive(self) -> dict[str, Any]:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        await self._chunks.put(message)

    async def __aenter__(self) -> EventStream:
        self._task = asyncio.create_task(self.app(self.scope, self._receive, self._send))
        start = await asyncio.wait_for(self._chunks.get(), WAIT)
        assert start["type"] == "http.response.start", start
        self.status = start["status"]
        self.headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._disconnect.set()
        assert self._task is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), WAIT)
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def raw(self, within: float = WAIT) -> bytes:
        """Everything up to the end of the next frame (a blank line), comments included."""
        while b"\n\n" not in self._buffer:
            if self.finished:
                raise EOFError(self._buffer)
            chunk = await asyncio.wait_for(self._chunks.get(), within)
            self._buffer += chunk.get("body", b"")
            if not chunk.get("more_body", False):
                self.finished = True
        frame, self._buffer = self._buffer.split(b"\n\n", 1)
        return frame

    async def event(self, within: float = WAIT) -> tuple[str, Any]:
        """The next event (comments skipped): its name and its data (JSON decoded, or None)."""
        while True:
            frame = await self.raw(within)
            name, data = "message", []
            for line in frame.decode().split("\n"):
                if line.startswith(":"):
                    continue
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "event":
                    name = value
                elif field == "data":
                    data.append(value)
            if not data and name == "message":
                continue  # a comment alone
            text = "\n".join(data)
            return name, orjson.loads(text) if text else None


@contextlib.asynccontextmanager
async def event_stream(
    app: Any,
    path: str,
    *,
    query: str | None = None,
    variables: dict[str, Any] | None = None,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    token: str | None = None,
) -> AsyncIterator[EventStream]:
    sent = {"accept": "text/event-stream", "content-type": "application/json", **(headers or {})}
    if token:
        sent["authorization"] = f"Bearer {token}"
    payload = body if body is not None else {"query": query, "variables": variables or {}}
    if method == "GET":
        from urllib.parse import urlencode

        params = {k: (orjson.dumps(v).decode() if isinstance(v, dict) else v) for k, v in payload.items()}
        stream = EventStream(app, "GET", path, sent, b"", urlencode(params).encode())
    else:
        stream = EventStream(app, method, path, sent, orjson.dumps(payload), b"")
    async with stream:
        yield stream
