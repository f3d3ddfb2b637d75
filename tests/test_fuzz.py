"""Fuzzing: schema-valid random queries and mutations (hypothesis-graphql), and invalid ones,
against the app with its lifespan running. None may answer 5xx or hit an unexpected
exception (an INTERNAL_ERROR in the answer is a bug: it means an exception was masked)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, mutations, queries

from nextgen_gql.app import create_app
from nextgen_gql.settings import Settings
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, REPO, STARTUP

SDL = (REPO / "schema" / "schema.graphql").read_text()
EXAMPLES = 120


class Client:
    """A running app, driven from synchronous hypothesis tests through one event loop."""

    def __init__(self, settings: Settings) -> None:
        self.runner = asyncio.Runner()

        async def start() -> tuple[LifespanManager, httpx.AsyncClient]:
            manager = LifespanManager(
                create_app(settings), startup_timeout=STARTUP
            )  # must be made inside the loop
            await manager.__aenter__()
            transport = httpx.ASGITransport(app=manager.app)
            return manager, httpx.AsyncClient(transport=transport, base_url="http://testserver")

        self.manager, self.http = self.runner.run(start())
        self.tokens: list[str | None] = [None]
        for username, password in [FILER, (CLERKS["mad"], CLERK_PASSWORD)]:
            body = self.post(
                "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p,"
                " redactionAcknowledged: true}) { token } }",
                {"u": username, "p": password},
            ).json()
            self.tokens.append(body["data"]["signIn"]["token"])

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        court: str | None = None,
        token: str | None = None,
        **kw: Any,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        path = f"/courts/{court}/graphql" if court else "/graphql"
        return self.runner.run(
            self.http.post(path, json={"query": query, "variables": variables or {}}, headers=headers, **kw)
        )

    def raw(self, content: bytes, content_type: str = "application/json") -> httpx.Response:
        return self.runner.run(
            self.http.post("/graphql", content=content, headers={"content-type": content_type})
        )

    def close(self) -> None:
        self.runner.run(self.http.aclose())
        self.runner.run(self.manager.__aexit__(None, None, None))
        self.runner.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    running = Client(settings)
    yield running
    running.close()


def assert_safe(response: httpx.Response, query: str) -> None:
    assert response.status_code < 500, (response.status_code, query, response.text[:500])
    body = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL_ERROR" not in codes, (query, body)
    assert all(codes), ("every error carries a code", query, body)


QUERIES = queries(SDL)
MUTATIONS = mutations(SDL)


@pytest.mark.parametrize("court", [None, "mad"])
def test_random_valid_queries(client: Client, court: str | None) -> None:
    @seed(20261121)
    @hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(query=QUERIES, who=st.integers(0, 2))
    def check(query: str, who: int) -> None:
        assert_safe(client.post(query, court=court, token=client.tokens[who]), query)

    check()


@pytest.mark.parametrize("court", [None, "mab"])
def test_random_valid_mutations(client: Client, court: str | None) -> None:
    @seed(20261122)
    @hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(query=MUTATIONS, who=st.integers(0, 2))
    def check(query: str, who: int) -> None:
        assert_safe(client.post(query, court=court, token=client.tokens[who]), query)

    check()


def test_random_invalid_documents(client: Client) -> None:
    @seed(20261123)
    @hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(query=from_schema(SDL, mode=Mode.NEGATIVE))
    def check(query: str) -> None:
        assert_safe(client.post(query, token=client.tokens[1]), query)

    check()


def test_random_bytes_and_json_shapes(client: Client) -> None:
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=12,
    )

    @seed(20261124)
    @hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
    def check(body: bytes) -> None:
        response = client.raw(body)
        assert response.status_code < 500, (body, response.text[:300])

    check()


def test_wrong_variable_types_everywhere(client: Client) -> None:
    operation = """mutation($i: LinkCmecfAccountInput!) { linkCmecfAccount(input: $i) { errors { code } } }"""

    @seed(20261125)
    @hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        value=st.dictionaries(
            st.sampled_from(["login", "password", "confirm", "onBehalfOf", "x"]),
            st.none() | st.integers() | st.text() | st.booleans() | st.lists(st.integers()),
        )
    )
    def check(value: dict[str, Any]) -> None:
        response = client.post(operation, {"i": value}, court="mad", token=client.tokens[1])
        assert_safe(response, str(value))

    check()


def test_random_http_requests_get_coded_answers(client: Client) -> None:
    """GraphQL over HTTP's parameters, media types and persisted-document fields, at random:
    every answer is a status below 500 and a GraphQL-shaped body whose errors carry a code."""
    texts = st.sampled_from(
        ["{ __typename }", "{ courts { code } }", "mutation { signOut { ok } }", "{", ""]
    ) | st.text(max_size=20)
    json_texts = st.sampled_from(['{"a": 1}', "null", "[]", "1", '"x"', "{", ""]) | st.text(max_size=12)
    persisted = st.fixed_dictionaries(
        {},
        optional={
            "version": st.sampled_from([1, 2, "1", None]),
            "sha256Hash": st.sampled_from(["0" * 64, "abc", None, 7])
            | st.just("bc5d5cf1a7ff3d9bc5cd2e0c89fa40a29fc7a1f8ae63bf1bf9d8c8f06e1f08a8"),
        },
    )
    parameters = st.fixed_dictionaries(
        {},
        optional={
            "query": texts,
            "operationName": st.sampled_from(["A", "", "signOut"]) | st.text(max_size=6),
            "variables": json_texts,
            "extensions": json_texts | persisted.map(lambda p: json.dumps({"persistedQuery": p})),
            "doc_id": st.text(max_size=10),
            "documentId": st.sampled_from(["sha256:" + "0" * 64, "sha256:", "x"]),
            "id": st.text(max_size=10),
        },
    )
    accepts = st.sampled_from(
        [
            None,
            "*/*",
            "application/json",
            "application/graphql-response+json",
            "text/html",
            "application/xml;q=0",
            "a/b, */*;q=0.1",
        ]
    )

    @seed(20261126)
    @hsettings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        method=st.sampled_from(["GET", "POST", "PUT"]),
        params=parameters,
        accept=accepts,
        content_type=st.sampled_from(
            ["application/json", "application/json; charset=utf-8", "text/plain", None]
        ),
        post_as_json=st.booleans(),
    )
    def check(
        method: str, params: dict[str, str], accept: str | None, content_type: str | None, post_as_json: bool
    ) -> None:
        headers = {"accept": accept} if accept else {}
        if method == "GET":
            request = client.http.get("/graphql", params=params, headers=headers)
        else:
            body: dict[str, Any] = dict(params)
            if post_as_json:  # the JSON parameters as JSON values, where they parse
                for name in ("variables", "extensions"):
                    if name in body:
                        with contextlib.suppress(ValueError):
                            body[name] = json.loads(body[name])
            if content_type:
                headers["content-type"] = content_type
            request = client.http.request(
                method, "/graphql", content=json.dumps(body).encode(), headers=headers
            )
        response = client.runner.run(request)
        assert response.status_code < 500, (method, params, response.text[:300])
        if response.headers.get("content-type", "").startswith("text/html"):
            return  # GraphiQL, for a browser's GET
        if response.status_code == 304:
            return
        answer = response.json()
        assert "data" in answer or answer.get("errors"), answer
        codes = [e.get("extensions", {}).get("code") for e in answer.get("errors") or []]
        assert all(codes) and "INTERNAL_ERROR" not in codes, (method, params, answer)

    check()
