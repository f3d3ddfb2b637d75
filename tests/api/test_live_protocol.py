"""The WebSocket protocol's edges: bad messages get graphql-transport-ws's close codes and
never crash the service; signing in with the cookie only from allowed pages; limits,
keep-alive, slow readers; documents by id and the trusted-documents rule."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nextgen_gql.settings import Settings
from tests.api.live_helpers import COURTS_CHANGED, MY_EVENTS, error_codes, filer, submit, subscribed
from tests.conftest import Api, running_api
from tests.live import gql_socket

SUBSCRIBE = {"type": "subscribe", "id": "1", "payload": {"query": COURTS_CHANGED}}


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        (["not json"], 4400, "valid JSON"),
        ([b"\x00\x01binary"], 4400, "must be text"),
        ([[1, 2]], 4400, "JSON object with a string type"),
        ([{"type": 7}], 4400, "JSON object with a string type"),
        ([{"type": "x" * 5000}], 4400, "Unknown message type"),
        ([SUBSCRIBE], 4401, "Unauthorized"),
        ([{"type": "connection_init", "payload": "x"}], 4400, "Invalid connection init payload"),
        ([{"type": "connection_init"}, {"type": "connection_init"}], 4429, "Too many initialisation"),
        ([{"type": "connection_init"}, {"type": "subscribe", "id": 5, "payload": {}}], 4400, "id must be"),
        ([{"type": "connection_init"}, {"type": "subscribe", "id": "1", "payload": []}], 4400, "payload"),
        ([{"type": "connection_init"}, SUBSCRIBE, SUBSCRIBE], 4409, "Subscriber for 1 already exists"),
        (
            [{"type": "connection_init", "payload": {"authorization": "Bearer nope"}}],
            4403,
            "token is not valid",
        ),
        ([{"type": "connection_init", "payload": {"authorization": "Basic eDp5"}}], 4403, "Bearer <token>"),
        ([{"type": "connection_init", "payload": {"authorization": 42}}], 4403, "Bearer <token>"),
    ],
)
async def test_bad_messages_get_the_protocols_close_codes(
    api: Api, messages: list[Any], code: int, reason: str
) -> None:
    async with gql_socket(api.app) as ws:
        for message in messages:
            if isinstance(message, bytes):
                await ws.send_bytes(message)
            elif isinstance(message, str):
                await ws.send_text(message)
            else:
                await ws.send(message)
        closed = await ws.closed_with()
    assert (closed.code, reason in closed.reason) == (code, True), closed
    assert len(closed.reason.encode()) <= 123
    # The service goes on: a query over HTTP, a new socket.
    assert (await api.data("{ courts { code } }"))["courts"]
    async with gql_socket(api.app) as ws:
        await ws.init()


async def test_no_subprotocol_and_the_legacy_protocol_are_refused(api: Api) -> None:
    for subprotocols in ([], ["graphql-ws"]):
        async with gql_socket(api.app, subprotocols=subprotocols) as ws:
            closed = await ws.closed_with()
        assert closed.code == 4406, closed


async def test_a_silent_connection_is_closed_after_the_init_timeout(api: Api) -> None:
    import datetime as dt

    api.app.state.view.connection_init_wait_timeout = dt.timedelta(seconds=0.3)
    async with gql_socket(api.app) as ws:
        closed = await ws.closed_with()
    assert closed.code == 4408, closed


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"query": "query { courts { code } }"}, "BAD_REQUEST"),
        ({"query": "mutation { signOut { ok } }"}, "BAD_REQUEST"),
        ({"query": "subscription { nope }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "subscription {"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": 7}, "BAD_REQUEST"),
        ({}, "BAD_REQUEST"),
        ({"documentId": "sha256:" + "0" * 64}, "PERSISTED_QUERY_NOT_FOUND"),
        ({"query": MY_EVENTS, "variables": {"after": 5}}, "BAD_USER_INPUT"),
        ({"query": MY_EVENTS, "variables": {"after": "bm90IG91cnM"}}, "UNAUTHENTICATED"),
    ],
)
async def test_what_cannot_run_is_an_error_message_with_a_code(
    api: Api, payload: dict[str, Any], code: str
) -> None:
    async with gql_socket(api.app) as ws:
        await ws.init()
        await ws.send({"type": "subscribe", "id": "op", "payload": payload})
        refused = await ws.message()
        assert refused["type"] == "error" and refused["id"] == "op", refused
        assert error_codes(refused) == [code]
        # The id is free again, and the connection serves on.
        await ws.subscribe("op", COURTS_CHANGED)
        await ws.quiet(0.2)


async def test_a_malformed_or_expired_cursor_is_invalid_input(api: Api) -> None:
    import base64

    james = await filer(api)
    old = base64.urlsafe_b64encode(json.dumps(["e", 1, 1_000_000_000_000]).encode()).decode().rstrip("=")
    for cursor, words in [
        ("bm90IG91cnM", "not one this API gave out"),
        (old, "older than the resume window"),
    ]:
        async with gql_socket(api.app) as ws:
            await ws.init({"authorization": f"Bearer {james}"})
            await ws.subscribe("m", MY_EVENTS, {"after": cursor})
            refused = await ws.message()
            assert error_codes(refused) == ["INVALID_INPUT"] and words in refused["payload"][0]["message"]


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        (None, True),
        ("http://testserver", True),
        ("https://spa.court.example", True),
        ("https://evil.example", False),
        ("null", False),
    ],
)
async def test_the_cookie_signs_a_socket_in_only_from_allowed_pages(
    settings: Settings, origin: str | None, accepted: bool
) -> None:
    async with running_api(settings.with_(cors_origins=("https://spa.court.example",))) as api:
        james = await filer(api)
        headers = {"cookie": f"NextGenCSO={james}"}
        if origin:
            headers["origin"] = origin
        async with gql_socket(api.app, headers=headers) as ws:
            await ws.send({"type": "connection_init"})
            if not accepted:
                closed = await ws.closed_with()
                assert closed.code == 4403 and "cookie is not accepted" in closed.reason
                return
            assert (await ws.message())["type"] == "connection_ack"
            await ws.subscribe("m", MY_EVENTS)
            await subscribed(api)
            await submit(api, james)  # no event for this one; a sign-out is
            await api.data("mutation { signOut { ok } }", token=await filer(api))
            assert (await ws.next("m"))["data"]["myEvents"]["kind"] == "SECURITY_CHANGED"


async def test_a_foreign_page_may_sign_in_with_a_token_of_its_own(api: Api) -> None:
    james = await filer(api)
    headers = {"origin": "https://elsewhere.example", "cookie": "NextGenCSO=stale"}
    async with gql_socket(api.app, headers=headers) as ws:
        await ws.init({"authorization": f"Bearer {james}"})
        await ws.subscribe("m", MY_EVENTS)
        await ws.quiet(0.2)


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(
        settings.with_(subscriptions_per_connection=2, subscriptions_per_account=3, keepalive_seconds=1)
    ) as api:
        yield api


async def test_subscriptions_are_capped_per_connection_and_per_account(limited: Api) -> None:
    api = limited
    james = await filer(api)
    async with gql_socket(api.app) as first, gql_socket(api.app) as second:
        for ws in (first, second):
            await ws.init({"authorization": f"Bearer {james}"})
        await first.subscribe("a", MY_EVENTS)
        await first.subscribe("b", COURTS_CHANGED)
        await first.subscribe("c", COURTS_CHANGED)
        refused = await first.message()
        assert refused["id"] == "c" and error_codes(refused) == ["RATE_LIMITED"]
        assert "on one connection" in refused["payload"][0]["message"]
        await second.subscribe("d", COURTS_CHANGED)
        await second.subscribe("e", COURTS_CHANGED)
        refused = await second.message()
        assert refused["id"] == "e" and "for one account" in refused["payload"][0]["message"]
        await first.send({"type": "complete", "id": "b"})  # completing one frees a place
        await asyncio.sleep(0.1)
        await second.subscribe("e", COURTS_CHANGED)
        await second.quiet(0.3)
    assert api.app.state.connections.subscriptions == 0


async def test_the_server_pings_and_closes_a_peer_that_never_pongs(limited: Api) -> None:
    api = limited
    async with gql_socket(api.app) as ws:
        await ws.init()
        ping = await ws.receive(within=3)
        assert ping == {"type": "ping"}
        await ws.send({"type": "pong"})
        assert await ws.receive(within=3) == {"type": "ping"}  # answered: still open
        await ws.send({"type": "ping"})
        assert await ws.receive(within=3) == {"type": "pong"}  # the client may ping too
        # Now silent: the next ping finds the last one unanswered.
        raw = await ws._next_raw(within=4)
        assert raw["type"] == "websocket.close" and raw["code"] == 4408, raw


async def test_a_slow_reader_is_disconnected_not_buffered(settings: Settings) -> None:
    from tests.api.live_helpers import clerk, withdraw

    async with running_api(settings.with_(subscription_queue=3)) as api:
        james, mad_clerk = await filer(api), await clerk(api)
        async with gql_socket(api.app, "/courts/mad/graphql", backlog=1) as ws:
            await ws.init({"authorization": f"Bearer {mad_clerk}"})
            await ws.subscribe("q", "subscription { registrationEvents { kind registration { id } } }")
            await subscribed(api)
            # The reader stops reading: the server's sends wait, then the subscriber's queue fills.
            for _ in range(6):
                await withdraw(api, james, await submit(api, james))
            closed = await ws.closed_with(within=5)
        assert closed.code == 1013 and "Too slow" in closed.reason, closed
        assert api.app.state.hub.subscribers == 0


async def test_documents_by_id_and_trusted_documents_only(settings: Settings) -> None:
    from nextgen_gql.services import auth
    from nextgen_gql.web import OPERATIONS_BUNDLE
    from tests.conftest import FILER

    my_events = json.loads(OPERATIONS_BUNDLE.read_text())["MyEvents"]["id"]
    async with running_api(settings.with_(trusted_documents="only")) as api:
        james = await auth.sign_in(username=FILER[0], password=FILER[1], ttl_seconds=600)
        async with gql_socket(api.app) as ws:
            await ws.init({"authorization": f"Bearer {james.token}"})
            await ws.subscribe("text", COURTS_CHANGED)
            refused = await ws.message()
            assert error_codes(refused) == ["PERSISTED_QUERY_REQUIRED"]
            await ws.send(
                {"type": "subscribe", "id": "id", "payload": {"documentId": my_events, "variables": {}}}
            )
            await subscribed(api)
            other = await auth.sign_in(username=FILER[0], password=FILER[1], ttl_seconds=600)
            await auth.sign_out(other.session)
            event = await ws.next("id")
            assert event["data"]["myEvents"]["kind"] == "SECURITY_CHANGED"
