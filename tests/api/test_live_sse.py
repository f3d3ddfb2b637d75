"""Subscriptions over plain HTTP: server-sent events (graphql-sse's distinct connections mode),
on the same routes, for clients that cannot open a WebSocket; every other request as before."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from nextgen_gql.db_backends import deadline
from nextgen_gql.settings import Settings
from tests.api.live_helpers import MY_EVENTS, REGISTRATION_EVENTS, clerk, filer, submit, subscribed
from tests.conftest import Api, running_api
from tests.live import event_stream


async def test_a_subscription_streams_as_server_sent_events(api: Api) -> None:
    mad_clerk, james = await clerk(api), await filer(api)
    async with event_stream(
        api.app, "/courts/mad/graphql", query=REGISTRATION_EVENTS, token=mad_clerk
    ) as sse:
        assert sse.status == 200
        assert sse.headers["content-type"].startswith("text/event-stream")
        assert sse.headers["cache-control"] == "no-store"
        await subscribed(api)
        registration = await submit(api, james)
        name, data = await sse.event()
        # An open stream holds no place among the requests in flight, and does not keep
        # background work (SQLite's maintenance) waiting for the requests to pause.
        assert api.app.state.admission.running == 0 and deadline.running() == 0
    assert name == "next"
    assert data["data"]["registrationEvents"]["kind"] == "SUBMITTED"
    assert data["data"]["registrationEvents"]["registration"]["id"] == registration
    assert api.app.state.hub.subscribers == 0  # the client went away: the subscription ended


async def test_eventsource_sends_get_with_the_cookie(api: Api) -> None:
    james = await filer(api)
    async with event_stream(
        api.app,
        "/graphql",
        method="GET",
        body={"query": MY_EVENTS},
        headers={"cookie": f"NextGenCSO={james}"},
    ) as sse:
        assert sse.status == 200
        await subscribed(api)
        await api.data("mutation { signOut { ok } }", token=await filer(api))
        name, data = await sse.event()
    assert (name, data["data"]["myEvents"]["kind"]) == ("next", "SECURITY_CHANGED")


async def test_request_errors_of_a_stream_only_client_travel_in_the_stream(api: Api) -> None:
    async with event_stream(api.app, "/graphql", query="subscription { nope }") as sse:
        assert sse.status == 200
        name, data = await sse.event()
        assert name == "next" and "data" not in data
        assert data["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert await sse.event() == ("complete", None)


async def test_an_error_of_the_subscription_itself_is_a_next_then_complete(api: Api) -> None:
    async with event_stream(api.app, "/courts/mad/graphql", query=REGISTRATION_EVENTS) as sse:
        name, data = await sse.event()
        assert name == "next" and data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await sse.event() == ("complete", None)


async def test_a_query_or_mutation_for_a_stream_only_client_is_one_result_then_complete(api: Api) -> None:
    async with event_stream(api.app, "/courts/mad/graphql", query="{ court { code } }") as sse:
        assert await sse.event() == ("next", {"data": {"court": {"code": "mad"}}})
        assert await sse.event() == ("complete", None)


@pytest.mark.parametrize(
    ("accept", "status"),
    [("application/json", 406), ("application/graphql-response+json", 406), ("text/html", 406)],
)
async def test_a_subscription_for_a_json_only_client_is_refused_with_a_pointer(
    api: Api, accept: str, status: int
) -> None:
    response = await api.client.post(
        "/courts/mad/graphql", json={"query": REGISTRATION_EVENTS}, headers={"accept": accept}
    )
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "text/event-stream" in error["message"]


async def test_json_and_stream_both_accepted_streams_subscriptions_only(api: Api) -> None:
    accept = "application/graphql-response+json, text/event-stream"
    response = await api.client.post(
        "/graphql", json={"query": "{ courts { code } }"}, headers={"accept": accept}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    async with event_stream(api.app, "/graphql", query=MY_EVENTS, headers={"accept": accept}) as sse:
        assert sse.headers["content-type"].startswith("text/event-stream")
        _, data = await sse.event()  # anonymous: myEvents says so
        assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.fixture
async def short(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(settings.with_(keepalive_seconds=1, subscriptions_per_account=1)) as api:
        yield api


async def test_a_quiet_stream_gets_keep_alive_comments_and_the_limits_hold(short: Api) -> None:
    api = short
    james = await filer(api)
    async with event_stream(api.app, "/graphql", query=MY_EVENTS, token=james) as sse:
        started = time.monotonic()
        frame = await sse.raw(within=3)
        assert frame.startswith(b":") and time.monotonic() - started < 2.5
        async with event_stream(api.app, "/graphql", query=MY_EVENTS, token=james) as second:
            _, data = await second.event()
            assert data["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
            assert await second.event() == ("complete", None)


async def test_the_stream_ends_when_its_session_does(api: Api) -> None:
    james = await filer(api)
    async with event_stream(api.app, "/graphql", query=MY_EVENTS, token=james) as sse:
        await subscribed(api)
        await api.data("mutation { signOut { ok } }", token=james)
        started = time.monotonic()
        _, data = await sse.event()
        if data.get("data"):  # the sign-out's own event may come first
            _, data = await sse.event()
        assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "session ended" in data["errors"][0]["message"]
        assert await sse.event() == ("complete", None)
        assert time.monotonic() - started <= 2.0
