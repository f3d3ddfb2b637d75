"""Webhook receivers for tests, on 127.0.0.1: ``Receiver`` (asyncio, for tests that run the
app in-process) records every request and answers with the statuses it is told (200 when told
nothing); ``HoldingReceiver`` (threads, for tests that drive server processes) holds the first
request open until released."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    #: Statuses to answer, in turn (then ``default``); a pair (status, headers) adds headers.
    answers: deque[int | tuple[int, dict[str, str]]] = field(default_factory=deque)
    default: int = 200
    #: The body of every answer (JSON when given: a JWK set a client publishes, say).
    document: bytes | None = None
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _server: asyncio.Server | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hooks/nextgen"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:  # noqa: ASYNC109
        """The requests once at least ``count`` have come (fails the test after ``timeout``)."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return self.received

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                answer = self.answers.popleft() if self.answers else self.default
                status, extra = answer if isinstance(answer, tuple) else (answer, {})
                async with self._arrived:
                    self.received.append(Received(method, path, headers, body))
                    self._arrived.notify_all()
                if self.document is not None:
                    extra = {"content-type": "application/json", **extra}
                more = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
                content = self.document if self.document is not None else b"ok"
                head = f"HTTP/1.1 {status} X\r\ncontent-length: {len(content)}\r\n{more}\r\n"
                writer.write(head.encode() + content)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class HoldingReceiver:
    """A receiver (threads, for a test driving server processes) that holds the first request
    open until ``release`` and answers every later one 200 at once; it records each request and
    the client port it came from."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.arrived = threading.Condition()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with owner.arrived:
                    first = not owner.received
                    owner.received.append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body.decode(),
                            "port": self.client_address[1],
                        }
                    )
                    owner.arrived.notify_all()
                if first:
                    owner.release.wait(120)
                try:
                    self.send_response(200)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender is gone

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/nextgen"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HoldingReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout), (
                f"{len(self.received)} of {count} deliveries in {timeout} s"
            )
            return list(self.received)
