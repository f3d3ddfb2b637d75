"""Load shedding: the in-flight limit per worker (``NEXTGEN_GQL_MAX_IN_FLIGHT``), over HTTP."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

from nextgen_gql.models import Session
from nextgen_gql.settings import Settings
from tests.conftest import FILER, running_api

NODE = 'query { node(id: "UGFjZXJBY2NvdW50OjE") { id } }'


async def test_past_the_in_flight_limit_a_request_is_shed_with_503_overloaded(settings: Settings) -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> None:
        entered.set()
        await release.wait()

    async with running_api(settings.with_(max_in_flight=1)) as api:
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=slow):
            held = asyncio.create_task(api.post(NODE))
            await asyncio.wait_for(entered.wait(), 10)
            shed = await api.post("{ courts { code } }")
            assert shed.status_code == 503 and shed.headers["retry-after"] == "1"
            body = shed.json()
            assert "data" not in body and [e["extensions"]["code"] for e in body["errors"]] == ["OVERLOADED"]
            # A mutation shed writes nothing.
            sessions = await Session.all().count()
            sign_in = f'mutation {{ signIn(input: {{username: "{FILER[0]}", password: "{FILER[1]}"}}) {{ token }} }}'
            refused = await api.post(sign_in)
            assert refused.status_code == 503 and "set-cookie" not in refused.headers
            assert await Session.all().count() == sessions
            # Health and metrics are not counted.
            assert (await api.client.get("/healthz")).status_code == 200
            assert (await api.client.get("/metrics")).status_code == 200
            release.set()
            assert (await held).status_code == 200
        # The slot is free again.
        assert (await api.post("{ courts { code } }")).status_code == 200
        assert api.app.state.in_flight.in_flight == 0


async def test_the_default_limit_is_twice_the_pool() -> None:
    assert Settings().max_in_flight == 20
    assert Settings(db_pool_max=4).max_in_flight == 8
    assert Settings.from_env({"NEXTGEN_GQL_MAX_IN_FLIGHT": "3"}).max_in_flight == 3


async def test_a_query_whose_client_closed_its_socket_is_abandoned(settings: Settings) -> None:
    """Over a real TCP socket (uvicorn in this process): the client sends a query and closes
    the connection while it runs; the query is cancelled and its slot freed."""
    import socket

    import orjson
    import uvicorn

    from nextgen_gql.app import create_app

    entered, cancelled, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> None:
        entered.set()
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(600):
            if server.started:
                break
            await asyncio.sleep(0.1)
        assert server.started
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=slow):
            body = orjson.dumps({"query": NODE})
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /graphql HTTP/1.1\r\nHost: testserver\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            await asyncio.wait_for(entered.wait(), 10)
            assert app.state.in_flight.in_flight == 1
            writer.close()  # the client goes away
            await asyncio.wait_for(cancelled.wait(), 10)
            for _ in range(50):
                if app.state.in_flight.in_flight == 0:
                    break
                await asyncio.sleep(0.1)
            assert app.state.in_flight.in_flight == 0
            del reader
    finally:
        release.set()
        server.should_exit = True
        await serving
