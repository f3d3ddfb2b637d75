"""The server keeps to its own Retry-After (``admission.pacing``): over a real TCP socket, a
connection answered ``503`` with ``Retry-After`` is not read again until it has passed, while
other connections are served as usual."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from unittest import mock

import orjson
import pytest
import uvicorn

from nextgen_gql.admission.pacing import MAX_HOLD_S, PacedHttpToolsProtocol, hold_seconds
from nextgen_gql.app import create_app
from nextgen_gql.settings import Settings
from tests.api.test_shedding import NODE, Held


def test_hold_seconds_reads_the_retry_after_of_a_503_only() -> None:
    assert hold_seconds(503, [(b"Retry-After", b"1")]) == 1.0
    assert hold_seconds(503, [(b"content-type", b"application/json"), (b"retry-after", b"2.5")]) == 2.5
    assert hold_seconds(503, []) == 0.0  # nothing asked: nothing held
    assert hold_seconds(429, [(b"retry-after", b"1")]) == 0.0
    assert hold_seconds(200, [(b"retry-after", b"1")]) == 0.0
    assert hold_seconds(503, [(b"retry-after", b"Wed, 21 Oct 2026 07:28:00 GMT")]) == 0.0
    assert hold_seconds(503, [(b"retry-after", b"-4")]) == 0.0
    assert hold_seconds(503, [(b"retry-after", b"86400")]) == MAX_HOLD_S


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[int]:
    """The app under uvicorn in this process, with the protocol ``serve`` uses: one running
    place and no queue, so that a second request is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings.with_(max_in_flight=1, queue_target_ms=0))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", http=PacedHttpToolsProtocol
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(600):
            if server.started:
                break
            await asyncio.sleep(0.1)
        assert server.started
        yield port
    finally:
        server.should_exit = True
        await serving


def _request(body: bytes) -> bytes:
    return (
        b"POST /graphql HTTP/1.1\r\nHost: testserver\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.lower().split(b": ", 1) for line in lines[1:] if b": " in line)
    body = await reader.readexactly(int(headers[b"content-length"]))
    return status, headers, body


async def test_a_refused_connection_is_read_again_only_after_its_retry_after(server: int) -> None:
    port = server
    held = Held()
    query = orjson.dumps({"query": NODE})
    with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=held.__call__):
        busy_reader, busy_writer = await asyncio.open_connection("127.0.0.1", port)
        busy_writer.write(_request(query))
        await asyncio.wait_for(held.entered.wait(), 10)  # the one running place is taken

        greedy_reader, greedy_writer = await asyncio.open_connection("127.0.0.1", port)
        greedy_writer.write(_request(query))
        status, headers, body = await asyncio.wait_for(_answer(greedy_reader), 10)
        refused_at = time.monotonic()
        assert status == 503 and headers[b"retry-after"] == b"1"
        assert orjson.loads(body)["errors"][0]["extensions"]["code"] == "OVERLOADED"

        # The greedy client resends at once; the place comes free at once too.
        greedy_writer.write(_request(query))
        await greedy_writer.drain()
        held.release.set()
        assert (await asyncio.wait_for(_answer(busy_reader), 10))[0] == 200

        # A polite newcomer is served while the greedy connection's resend still waits unread.
        other_reader, other_writer = await asyncio.open_connection("127.0.0.1", port)
        other_writer.write(_request(query))
        other = asyncio.create_task(_answer(other_reader))
        resend = asyncio.create_task(_answer(greedy_reader))
        done, _ = await asyncio.wait({other, resend}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        assert done == {other}, "the other connection was answered first"
        assert other.result()[0] == 200

        status, _, _ = await asyncio.wait_for(resend, 10)
        waited = time.monotonic() - refused_at
        assert status == 200  # read after its Retry-After, it ran as any request does
        assert waited >= 0.9, f"the resend was read {waited:.2f} s after the refusal"
        for writer in (busy_writer, greedy_writer, other_writer):
            writer.close()


async def test_a_connection_that_waits_as_asked_is_kept_open(server: int) -> None:
    """The keep-alive timeout counts from when the connection is read again: a client that
    comes back on its connection after the Retry-After finds it open and is served."""
    port = server
    held = Held()
    query = orjson.dumps({"query": NODE})
    with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=held.__call__):
        busy_reader, busy_writer = await asyncio.open_connection("127.0.0.1", port)
        busy_writer.write(_request(query))
        await asyncio.wait_for(held.entered.wait(), 10)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_request(query))
        assert (await asyncio.wait_for(_answer(reader), 10))[0] == 503
        held.release.set()
        assert (await asyncio.wait_for(_answer(busy_reader), 10))[0] == 200
        await asyncio.sleep(1.2)
        writer.write(_request(query))
        assert (await asyncio.wait_for(_answer(reader), 10))[0] == 200
        writer.close()
        busy_writer.close()
