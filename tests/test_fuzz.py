"""Fuzzing: schema-valid random queries and mutations (hypothesis-graphql), and invalid ones,
against the app with its lifespan running. None may answer 5xx or hit an unexpected
exception (an INTERNAL_ERROR in the answer is a bug: it means an exception was masked).

Valid documents are sent as every role (``ROLES``: nobody, a legacy account, an upgraded filer,
a shared account, a firm's admin, the addressed court's clerk, another court's clerk, the
court's service key) at both endpoints (national, and ``/courts/mad/graphql``), a bounded
number of examples per role so that the whole stays quick on two cores."""

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
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, LEGACY, REPO, SHARED, STARTUP

SDL = (REPO / "schema" / "schema.graphql").read_text()
EXAMPLES = 120
#: The court the court endpoint addresses: its clerk is "clerk of the court", its key the key.
COURT = "mad"
ROLES = (
    "anonymous",
    "legacy",
    "upgraded filer",
    "shared account",
    "firm admin",
    "clerk of the court",
    "clerk of another court",
    "service key",
)
#: Random valid documents per role and endpoint (8 roles: 120 a test, as before the roles).
EXAMPLES_PER_ROLE = 15
#: Who signs in as each role that is a person (the firm admin's firm is made at start).
PEOPLE = {
    "legacy": LEGACY,
    "upgraded filer": FILER,
    "shared account": SHARED,
    "firm admin": ("mlopez2018", "Harbor-Signal-Evening-5"),
    "clerk of the court": (CLERKS[COURT], CLERK_PASSWORD),
    "clerk of another court": (CLERKS["mab"], CLERK_PASSWORD),
}
SIGN_IN = (
    "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p,"
    " redactionAcknowledged: true}) { token errors { code } } }"
)


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
        self.credentials: dict[str, str | None] = {"anonymous": None}
        self.sign_ins = 0
        for role in PEOPLE:
            self.sign_in(role)
        firm = self.post(
            'mutation { createFirm(input: {name: "Fuzz & Partners LLP"}) { errors { code } } }',
            token=self.credentials["firm admin"],
        ).json()
        assert firm["data"]["createFirm"]["errors"] == [], firm
        key = self.post(
            'mutation { createCourtServiceKey(input: {name: "fuzz", scopes: [RECORD_USAGE, READ_ROSTER,'
            " READ_REGISTRATIONS]}) { secret errors { code } } }",
            court=COURT,
            token=self.credentials["clerk of the court"],
        ).json()
        assert key["data"]["createCourtServiceKey"]["errors"] == [], key
        self.credentials["service key"] = key["data"]["createCourtServiceKey"]["secret"]
        # The first tests' roles: nobody, a filer, a clerk.
        self.tokens = [None, self.credentials["upgraded filer"], self.credentials["clerk of the court"]]

    def sign_in(self, role: str) -> None:
        """(Again) sign in as ``role``: a fuzzed ``signOut`` may have ended its session."""
        username, password = PEOPLE[role]
        # From an address of its own (documentation range, through the trusted local proxy's
        # header): fuzzed signIn failures from the fuzzer's address throttle that address, as
        # they should, and must not lock the roles out of signing in again.
        self.sign_ins += 1
        proxy = {"X-Forwarded-For": f"198.51.100.{self.sign_ins % 250 + 1}"}
        body = self.post(SIGN_IN, {"u": username, "p": password}, headers=proxy).json()
        assert body["data"]["signIn"]["errors"] == [], (role, body)
        self.credentials[role] = body["data"]["signIn"]["token"]
        # signIn also sets the NextGenCSO cookie, which the client would send from then on:
        # roles sign in with their bearer token alone (anonymous is no one at all).
        self.http.cookies.clear()

    def as_role(self, query: str, role: str, court: str | None) -> httpx.Response:
        """``query`` sent as ``role``. A person's token refused (401: an earlier example signed
        it out) is replaced by a new sign-in and the query sent again, so every role stays itself."""
        response = self.post(query, court=court, token=self.credentials[role])
        if response.status_code == 401 and role in PEOPLE:
            self.sign_in(role)
            response = self.post(query, court=court, token=self.credentials[role])
        return response

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
        headers.update(kw.pop("headers", {}))
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
    # Budgets off: thousands of fuzzed documents from one address, many refused (a refused
    # document and a failed credential cost the address a point), would spend its budget and
    # turn the roles' sign-ins into 429s. Budgets have tests of their own (test_rate_limits).
    running = Client(settings.with_(rate_limit_points=0))
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


def fuzz_role(
    client: Client, documents: st.SearchStrategy[str], role: str, court: str | None, at: int
) -> None:
    """``EXAMPLES_PER_ROLE`` random valid documents as ``role``, at ``court`` (None: national)."""

    @seed(at)
    @hsettings(
        max_examples=EXAMPLES_PER_ROLE, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(query=documents)
    def check(query: str) -> None:
        assert_safe(client.as_role(query, role, court), f"as {role}: {query}")

    check()


def fuzz_every_role(
    client: Client, documents: st.SearchStrategy[str], court: str | None, first_seed: int
) -> None:
    for number, role in enumerate(ROLES):
        fuzz_role(client, documents, role, court, first_seed + number)


@pytest.mark.parametrize("court", [None, COURT])
def test_random_valid_queries(client: Client, court: str | None) -> None:
    fuzz_every_role(client, QUERIES, court, 20261121_00)


@pytest.mark.parametrize("court", [None, COURT])
def test_random_valid_mutations(client: Client, court: str | None) -> None:
    fuzz_every_role(client, MUTATIONS, court, 20261122_00)


def test_every_role_is_who_it_says(client: Client) -> None:
    """The roles the fuzzing sends are live and distinct: each is recognised as itself."""
    me = "{ me { username clerkOf { code } firm { admins { username } } } }"
    seen = {}
    for role in ROLES:
        response = client.post(me, court=COURT, token=client.credentials[role])
        assert response.status_code == 200, (role, response.text)
        seen[role] = response.json()["data"]["me"]
    assert seen["anonymous"] is None and seen["service key"] is None  # a key is no person
    assert {seen[role]["username"] for role in PEOPLE} == {username for username, _ in PEOPLE.values()}
    assert seen["clerk of the court"]["clerkOf"] == [{"code": COURT}]
    assert seen["clerk of another court"]["clerkOf"] == [{"code": "mab"}]
    assert seen["firm admin"]["firm"]["admins"] == [{"username": "mlopez2018"}]
    roster = client.post(
        "{ cmecfAccounts(first: 1) { totalCount } }", court=COURT, token=client.credentials["service key"]
    )
    assert roster.json()["data"]["cmecfAccounts"]["totalCount"] > 0  # the key acts at its court


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
