"""Review of 2026-12-04, findings 1, 3 and 5: documents that cost before they run, a dead token
spending its owner's points, automatic persisted queries kept for refused requests."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse

from nextgen_gql.api.limits import aliases, depth, fragment_spreads, most_merged
from nextgen_gql.api.request_errors import validate
from nextgen_gql.api.schema import build_schema
from nextgen_gql.models import PersistedDocument
from nextgen_gql.settings import Settings
from tests.conftest import FILER, Api, running_api

OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"
RATE = "{ rateLimit { cost limit used remaining } }"
#: A query that costs its caller points (a list per court, the account's sessions).
COSTLY = "{ me { sessions { id } invitations { id } privileges { id } } courts { code } }"


def bomb(n: int) -> str:
    """The finding's document: each fragment spreads the one before twice."""
    fragments = " ".join(f"fragment F{k} on Query{{...F{k - 1} ...F{k - 1}}}" for k in range(1, n + 1))
    return f"query{{...F{n}}} fragment F0 on Query{{courts{{code}}}} {fragments}"


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@contextlib.asynccontextmanager
async def attacker(api: Api, host: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client from an address of its own (anonymous budgets are by address)."""
    transport = httpx.ASGITransport(app=api.app, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def post(client: httpx.AsyncClient, query: str, **extra: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, **extra})


# -- finding 1: the fragment bomb and repeated selections ------------------------------------


@pytest.mark.parametrize("n", [20, 24, 280])
async def test_the_fragment_bomb_is_refused_with_its_code(api: Api, n: int) -> None:
    response = await api.post(bomb(n))
    assert response.status_code == 200  # application/json: request errors are 200, no data
    body = response.json()
    assert "data" not in body and codes(body) == ["TOO_MANY_FRAGMENT_SPREADS"]
    assert "fragment spreads" in body["errors"][0]["message"]
    assert "NEXTGEN_GQL_MAX_FRAGMENT_SPREADS" in body["errors"][0]["message"]


async def test_the_bomb_as_graphql_response_json_is_a_400(api: Api) -> None:
    response = await api.client.post(
        "/graphql", json={"query": bomb(24)}, headers={"accept": "application/graphql-response+json"}
    )
    assert response.status_code == 400 and codes(response.json()) == ["TOO_MANY_FRAGMENT_SPREADS"]


@pytest.mark.parametrize(
    ("selection", "copies", "path"),
    [("me{firm{admins{id}}}", 280, "anonymous.me"), ("me{id}", 700, "anonymous.me")],
)
async def test_repeated_selections_are_refused_with_their_code(
    api: Api, selection: str, copies: int, path: str
) -> None:
    body = await api.gql("{" + " ".join([selection] * copies) + "}")
    assert "data" not in body and codes(body) == ["TOO_MANY_REPEATED_FIELDS"]
    message = body["errors"][0]["message"]
    assert f"{path} is selected {copies} times" in message and "NEXTGEN_GQL_MAX_FIELD_REPEATS" in message


async def test_repeats_through_fragments_and_cousins_count_where_they_merge(api: Api) -> None:
    # 5 x me, each with 5 x id: me.id merges 25 fields (over 20), though no selection set holds 6.
    cousins = "{" + " ".join(["me{" + " ".join(["id"] * 5) + "}"] * 5) + "}"
    assert codes(await api.gql(cousins)) == ["TOO_MANY_REPEATED_FIELDS"]
    through_fragments = (
        "{me{...A ...B}} fragment A on PacerAccount{" + " id" * 11 + "} fragment B on PacerAccount{"
    )
    through_fragments += " id" * 11 + "}"
    assert codes(await api.gql(through_fragments)) == ["TOO_MANY_REPEATED_FIELDS"]
    # Fragments side by side: graphql-core compares each pair of them.
    side = " ".join(f"...S{k}" for k in range(25))
    fragments = " ".join(f"fragment S{k} on Query{{courts{{code}}}}" for k in range(25))
    body = await api.gql(f"{{{side}}} {fragments}")
    assert (
        codes(body) == ["TOO_MANY_FRAGMENT_SPREADS"] and "one selection set" in body["errors"][0]["message"]
    )


async def test_documents_within_the_limits_still_run(api: Api) -> None:
    within = "{" + " ".join(["me{id}"] * 20) + "} "
    assert (await api.gql(within))["data"] == {"me": None}
    assert "errors" not in await api.gql(bomb(5))  # 63 spreads, inside the default 100
    assert "errors" not in await api.gql("{" + " ".join(f"a{i}: courts{{code}}" for i in range(30)) + "}")


def test_every_operation_the_service_ships_passes_the_limits() -> None:
    schema = build_schema(Settings())
    for path in sorted(OPERATIONS.glob("*.graphql")):
        document = parse(path.read_text())
        errors = validate(schema._schema, document, schema.service_rules)
        assert errors == [], (path.name, [e.message for e in errors])


def test_the_measures_take_each_fragment_once() -> None:
    document = parse(bomb(200))
    assert fragment_spreads(document) == 2**201 - 1
    assert depth(document) == {"anonymous": 1}
    assert aliases(parse("{...A ...A} fragment A on Query{a: b c: d{e: f}}")) == 6
    fields, spreads = most_merged(document)
    assert (fields.merged, spreads.merged) == (1, 201)


# -- the refusal costs points ------------------------------------------------------------------


async def test_a_refused_document_costs_its_caller_points(settings: Settings) -> None:
    async with (
        running_api(settings.with_(rate_limit_points=50)) as api,
        attacker(api, "192.0.2.31") as client,
    ):
        for n in range(21, 30):  # a new text every time: the validation cache does not help
            refused = await post(client, bomb(n))
            assert codes(refused.json()) == ["TOO_MANY_FRAGMENT_SPREADS"]
        spent = (await post(client, RATE)).json()["data"]["rateLimit"]
        assert spent["limit"] == 10 and spent["used"] == 10 and spent["remaining"] == 0
        over = await post(client, bomb(30))
        assert over.status_code == 429 and codes(over.json()) == ["RATE_LIMITED"]
        assert int(over.headers["retry-after"]) >= 1
        # A parse failure is a refused document too.
        assert (await post(client, "{ me { ")).status_code == 429
        async with attacker(api, "192.0.2.32") as other:  # another address: its own budget
            assert codes((await post(other, bomb(24))).json()) == ["TOO_MANY_FRAGMENT_SPREADS"]


# -- finding 3: a dead token spends nobody's points --------------------------------------------


async def test_a_signed_out_token_spends_its_address_never_its_owner(settings: Settings) -> None:
    async with (
        running_api(settings.with_(rate_limit_points=100)) as api,
        attacker(api, "192.0.2.41") as client,
    ):
        token = await api.sign_in(*FILER)
        bearer = {"authorization": f"Bearer {token}"}
        before = (await client.post("/graphql", json={"query": RATE}, headers=bearer)).json()["data"][
            "rateLimit"
        ]
        out = await client.post("/graphql", json={"query": "mutation { signOut { ok } }"}, headers=bearer)
        assert out.json()["data"]["signOut"]["ok"] is True
        for _ in range(15):  # the compiled path and the reference executor's
            for query in (COSTLY, "mutation { signOutOtherSessions { ok } }"):
                dead = await client.post("/graphql", json={"query": query}, headers=bearer)
                assert dead.status_code in (401, 429), dead.text
        assert dead.status_code == 429  # the address paid for the 401s, and its fifth is spent
        fresh = await api.sign_in(*FILER)
        after = (await api.data(RATE, token=fresh))["rateLimit"]
        # Nothing between: only the sign-out (1 point) and this query (1 point).
        assert after["used"] == before["used"] + 2, (before, after)


# -- finding 5: automatic persisted queries kept only for requests that ran ---------------------


async def test_refused_requests_keep_no_persisted_query(settings: Settings) -> None:
    limits = settings.with_(rate_limit_points=50, max_nodes=1)
    async with running_api(limits) as api, attacker(api, "192.0.2.51") as client:
        sent = []
        for i in range(12):
            text = f"query Q{i} {{ me {{ id }} }} # {'x' * 2000}"
            response = await post(
                client, text, extensions={"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}
            )
            sent.append((text, response.status_code))
        assert [status for _, status in sent] == [200] * 10 + [429] * 2
        for text, status in sent:
            assert await PersistedDocument.filter(sha256=sha(text)).exists() is (status == 200), status
        # Refused by validation or by its cost: kept neither.
        for text, code in (
            (bomb(22), "TOO_MANY_FRAGMENT_SPREADS"),
            ("{ courts { code } }", "QUERY_TOO_COSTLY"),
        ):
            async with attacker(api, "192.0.2.52") as fresh:
                extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}
                assert codes((await post(fresh, text, extensions=extensions)).json()) == [code]
            assert not await PersistedDocument.filter(sha256=sha(text)).exists()


async def test_a_refused_document_over_a_websocket_costs_its_account_points(settings: Settings) -> None:
    from tests.api.live_helpers import error_codes
    from tests.live import gql_socket

    async with running_api(settings.with_(rate_limit_points=10)) as api:
        token = await api.sign_in(*FILER)
        async with gql_socket(api.app, "/graphql") as ws:
            await ws.init({"authorization": f"Bearer {token}"})
            for i in range(10):
                await ws.subscribe(f"s{i}", bomb(20 + i))
                refused = await ws.message()
                assert refused["type"] == "error" and error_codes(refused) == ["TOO_MANY_FRAGMENT_SPREADS"]
            await ws.subscribe("over", bomb(30))
            over = await ws.message()
            assert over["type"] == "error" and error_codes(over) == ["RATE_LIMITED"], over
