"""Points per hour per caller (``services.budgets``, ``Query.rateLimit``), over HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from nextgen_gql.services import budgets
from nextgen_gql.settings import Settings
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api, running_api

RATE = "{ rateLimit { cost nodeCount limit used remaining resetAt } }"
COURTS = "{ courts { code } }"


@contextlib.asynccontextmanager
async def peer(api: Api, host: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api.app, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def rate(client: httpx.AsyncClient, query: str = RATE, **headers: str) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]["rateLimit"]
    return data


async def test_an_anonymous_address_spends_its_fifth_then_gets_429_with_retry_after(
    settings: Settings,
) -> None:
    async with running_api(settings.with_(rate_limit_points=50)) as api, peer(api, "192.0.2.10") as client:
        first = await rate(client)
        assert first["limit"] == 10 and first["used"] == 1 and first["remaining"] == 9 and first["cost"] == 1
        for _ in range(9):
            assert (await client.post("/graphql", json={"query": COURTS})).status_code == 200
        refused = await client.post("/graphql", json={"query": COURTS})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        body = refused.json()
        assert "data" not in body and [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"]
        # Another address has its own budget.
        async with peer(api, "192.0.2.11") as other:
            assert (await rate(other))["used"] == 1


async def test_ipv6_addresses_share_a_budget_by_their_64(settings: Settings) -> None:
    async with running_api(settings.with_(rate_limit_points=50)) as api:
        async with peer(api, "2001:db8:1:2::1") as one, peer(api, "2001:db8:1:2:ffff::9") as same:
            assert (await rate(one))["used"] == 1
            assert (await rate(same))["used"] == 2
        async with peer(api, "2001:db8:1:3::1") as other:
            assert (await rate(other))["used"] == 1


async def test_an_account_spends_one_budget_whatever_its_token(settings: Settings) -> None:
    async with running_api(settings.with_(rate_limit_points=50)) as api:
        one, two = await api.sign_in(*FILER), await api.sign_in(*FILER)
        a = (await api.data(RATE, token=one))["rateLimit"]
        b = (await api.data(RATE, token=two))["rateLimit"]
        assert a["limit"] == 50 and b["used"] == a["used"] + 1
        # The anonymous address is another caller.
        assert (await api.data(RATE))["rateLimit"]["limit"] == 10


async def test_cost_is_a_point_per_hundred_nodes(settings: Settings) -> None:
    async with running_api(settings) as api:
        token = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
        roster = "cmecfAccounts(first: 100) { edges { node { login } } }"
        one = await api.data(f"{{ rateLimit {{ cost nodeCount }} {roster} }}", court="mad", token=token)
        assert one["rateLimit"] == {"cost": 1, "nodeCount": 100}
        three = await api.data(
            f"{{ rateLimit {{ cost nodeCount }} a: {roster} b: {roster} c: courts {{ code }} }}",
            court="mad",
            token=token,
        )
        courts = len(three["c"])
        assert three["rateLimit"] == {"cost": budgets.cost_of(200 + courts), "nodeCount": 200 + courts}
        assert (await api.data(RATE, court="mad", token=token))["rateLimit"]["cost"] == 1  # 0 nodes: 1


async def test_a_dry_run_runs_nothing_else_and_spends_nothing(settings: Settings) -> None:
    async with running_api(settings.with_(rate_limit_points=50)) as api, peer(api, "192.0.2.20") as client:
        query = "query($d: Boolean) { rateLimit(dryRun: $d) { cost nodeCount used } courts { code } }"
        dry = (await client.post("/graphql", json={"query": query, "variables": {"d": True}})).json()
        assert dry == {
            "data": {"rateLimit": {"cost": 1, "nodeCount": dry["data"]["rateLimit"]["nodeCount"], "used": 0}}
        }
        assert dry["data"]["rateLimit"]["nodeCount"] > 0
        literal = (
            await client.post("/graphql", json={"query": "{ rateLimit(dryRun: true) { used } me { id } }"})
        ).json()
        assert literal == {"data": {"rateLimit": {"used": 0}}}
        real = (await client.post("/graphql", json={"query": query, "variables": {"d": False}})).json()
        assert real["data"]["rateLimit"]["used"] == 1 and len(real["data"]["courts"]) > 0
        # A dry run past the budget still answers (it spends nothing).
        for _ in range(9):
            await client.post("/graphql", json={"query": COURTS})
        assert (await client.post("/graphql", json={"query": COURTS})).status_code == 429
        after = (
            await client.post("/graphql", json={"query": "{ rateLimit(dryRun: true) { used remaining } }"})
        ).json()
        assert after == {"data": {"rateLimit": {"used": 10, "remaining": 0}}}


async def test_a_dry_run_is_seen_through_fragments_at_the_root(settings: Settings) -> None:
    async with running_api(settings.with_(rate_limit_points=50)) as api, peer(api, "192.0.2.21") as client:
        shapes = [
            # a named fragment on Query, whose own selection spreads another fragment
            (
                "query($d: Boolean) { ...Budget courts { code } } "
                "fragment Budget on Query { rateLimit(dryRun: $d) { ...Numbers } } "
                "fragment Numbers on RateLimit { used cost }",
                {"d": True},
            ),
            # an inline fragment at the root
            ("{ ... on Query { rateLimit(dryRun: true) { used cost } } courts { code } }", None),
            # nested inline fragments, one with @include
            (
                "query($i: Boolean!) { ... { ... @include(if: $i) { rateLimit(dryRun: true) { used cost } } } "
                "courts { code } }",
                {"i": True},
            ),
        ]
        for query, variables in shapes:
            body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
            assert body == {"data": {"rateLimit": {"used": 0, "cost": 1}}}, (query, body)
        # Not a dry run: the fragment is skipped, or dryRun is false; then everything runs and is spent.
        skipped = (
            "query($i: Boolean!) { ... @include(if: $i) { dry: rateLimit(dryRun: true) { used } } "
            "rateLimit { used } courts { code } }"
        )
        body = (await client.post("/graphql", json={"query": skipped, "variables": {"i": False}})).json()
        assert body["data"]["rateLimit"]["used"] == 1 and body["data"]["courts"]
        real = shapes[0][0]
        body = (await client.post("/graphql", json={"query": real, "variables": {"d": False}})).json()
        assert body["data"]["rateLimit"]["used"] == 2 and body["data"]["courts"]


async def test_a_mutation_past_the_budget_writes_nothing(settings: Settings) -> None:
    async with running_api(settings.with_(rate_limit_points=5)) as api, peer(api, "192.0.2.30") as client:
        sign_in = {
            "query": f'mutation {{ signIn(input: {{username: "{FILER[0]}", password: "{FILER[1]}"}}) {{ token }} }}'
        }
        assert (await client.post("/graphql", json=sign_in)).status_code == 200  # limit 1: spent
        client.cookies.clear()  # else the next one is the account's
        refused = await client.post("/graphql", json=sign_in)
        assert refused.status_code == 429 and "set-cookie" not in refused.headers


async def test_zero_turns_budgets_off(settings: Settings) -> None:
    async with running_api(settings.with_(rate_limit_points=0)) as api:
        for _ in range(5):
            state = (await api.data(RATE))["rateLimit"]
        assert state["limit"] == 0 and state["used"] == 0 and state["cost"] == 1


def test_the_points_setting_is_checked() -> None:
    assert Settings.from_env({}).rate_limit_points == 5000
    assert Settings.from_env({"NEXTGEN_GQL_RATE_LIMIT_POINTS": "0"}).rate_limit_points == 0
    try:
        Settings.from_env({"NEXTGEN_GQL_RATE_LIMIT_POINTS": "-1"})
    except ValueError as error:
        assert "RATE_LIMIT_POINTS" in str(error)
    else:
        raise AssertionError("a negative budget was accepted")


def test_callers_by_address() -> None:
    assert budgets.address_caller("203.0.113.9") == "addr:203.0.113.9"
    assert (
        budgets.address_caller("2001:db8::1")
        == budgets.address_caller("2001:db8::ffff:1:2:3")
        == "addr:2001:db8::/64"
    )
    assert budgets.address_caller("::ffff:203.0.113.9") == "addr:203.0.113.9"
    assert budgets.cost_of(0) == 1 and budgets.cost_of(100) == 1 and budgets.cost_of(101) == 2


async def test_a_subscription_start_is_charged_and_refused_over_the_budget(settings: Settings) -> None:
    from tests.api.live_helpers import MY_EVENTS, error_codes, subscribed
    from tests.live import event_stream, gql_socket

    async with running_api(settings.with_(rate_limit_points=10)) as api:
        token = await api.sign_in(*FILER)  # the anonymous address's point, not the account's
        async with gql_socket(api.app, "/graphql") as ws:
            await ws.init({"authorization": f"Bearer {token}"})
            await ws.subscribe("a", MY_EVENTS)
            await subscribed(api)
            # The subscription's start cost a point (its node count: no lists, cost 1).
            assert (await api.data(RATE, token=token))["rateLimit"]["used"] == 2
            for used in range(3, 11):
                assert (await api.data(RATE, token=token))["rateLimit"]["used"] == used
            # The budget is spent: the next subscription is refused with the protocol's error message.
            await ws.subscribe("b", MY_EVENTS)
            refused = await ws.message()
            assert refused["type"] == "error" and refused["id"] == "b", refused
            assert error_codes(refused) == ["RATE_LIMITED"]
            assert "points for the hour" in refused["payload"][0]["message"]
        # Over server-sent events: 429 with Retry-After before any stream opens.
        async with event_stream(api.app, "/graphql", query=MY_EVENTS, token=token) as stream:
            assert stream.status == 429 and int(stream.headers["retry-after"]) >= 1
