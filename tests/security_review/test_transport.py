"""The security review of 2026-12-04, replayed as an attacker would (docs/security.md, "Review of
2026-12-04"): items 11 and 12, over HTTP and WebSockets against the running app.

- 11: a subscription's credentials are checked as a query's are, on both live transports.
- 12: a foreign clerk learns nothing of another court's privilege; made-up operation names
  neither grow the metrics' labels nor push real operations out; one address may hold only so
  many WebSockets at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from nextgen_gql.api.live.sockets import SocketsPerAddress
from nextgen_gql.api.persisted import documents_from_text
from nextgen_gql.settings import Settings
from nextgen_gql.web import OPERATIONS_BUNDLE
from tests.api.live_helpers import COURTS_CHANGED, MY_EVENTS, REGISTRATION_EVENTS, clerk, filer
from tests.conftest import Api, running_api
from tests.live import Closed, GqlSocket, gql_socket

CREATE_KEY = """mutation($i: CreateCourtServiceKeyInput!) { createCourtServiceKey(input: $i) {
  secret errors { code } } }"""
ALL_SCOPES = ["RECORD_USAGE", "READ_ROSTER", "READ_REGISTRATIONS"]


async def mad_key(api: Api) -> str:
    """A live service key of mad, with every scope."""
    data = await api.data(
        CREATE_KEY, {"i": {"name": "feed", "scopes": ALL_SCOPES}}, court="mad", token=await clerk(api)
    )
    assert data["createCourtServiceKey"]["errors"] == []
    secret: str = data["createCourtServiceKey"]["secret"]
    return secret


@contextlib.asynccontextmanager
async def answer_to(
    api: Api, path: str, query: str, headers: dict[str, str]
) -> AsyncIterator[tuple[int, dict[str, str], bytes]]:
    """A subscription asked for as server-sent events (``Accept: text/event-stream``): the status,
    headers and body of a refusal, or of a stream the first bytes it sent (the stream is then
    left, as a client hanging up would)."""
    body = orjson.dumps({"query": query})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (k.encode(), v.encode())
            for k, v in {
                "host": "testserver",
                "accept": "text/event-stream",
                "content-type": "application/json",
                "content-length": str(len(body)),
                **headers,
            }.items()
        ],
        "client": ("127.0.0.1", 50002),
        "server": ("testserver", 80),
    }
    sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    gone = asyncio.Event()
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    task = asyncio.create_task(api.app(scope, receive, sent.put))
    try:
        start = await asyncio.wait_for(sent.get(), 5)
        assert start["type"] == "http.response.start", start
        answered = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        content = b""
        while True:
            part = await asyncio.wait_for(sent.get(), 5)
            content += part.get("body", b"")
            if not part.get("more_body", False) or start["status"] == 200:
                break
        yield start["status"], answered, content
    finally:
        gone.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 5)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def code_of(body: bytes) -> str:
    code: str = json.loads(body)["errors"][0]["extensions"]["code"]
    return code


# --- 11: a subscription's credentials hold as a query's, on every transport ---------------------


async def authorization_of(api: Api, shape: str) -> str:
    """The ``Authorization`` header of a credential shape the review tried: a garbage bearer
    token, a ``Basic`` header, a signed-out token, or ``mad``'s service key."""
    if shape == "garbage bearer":
        return "Bearer ngcso_not-a-token-at-all"
    if shape == "basic":
        return "Basic bWFkY2xlcmswMTpwYXNzd29yZA=="
    if shape == "signed-out bearer":
        token = await filer(api)
        await api.data("mutation { signOut { ok } }", token=token)
        return f"Bearer {token}"
    return f"Bearer {await mad_key(api)}"


@pytest.mark.parametrize(
    ("shape", "path", "status", "code"),
    [
        ("garbage bearer", "/courts/mab/graphql", 401, "UNAUTHENTICATED"),
        ("basic", "/courts/mab/graphql", 401, "UNAUTHENTICATED"),
        ("signed-out bearer", "/graphql", 401, "UNAUTHENTICATED"),
        ("mad key at mab", "/courts/mab/graphql", 403, "FORBIDDEN"),
        ("mad key at the national endpoint", "/graphql", 403, "FORBIDDEN"),
    ],
)
async def test_a_stream_refuses_the_credentials_a_query_refuses(
    api: Api, shape: str, path: str, status: int, code: str
) -> None:
    headers = {"authorization": await authorization_of(api, shape)}
    query = await api.client.post(path, json={"query": "{ courts { code } }"}, headers=headers)
    assert (query.status_code, code_of(query.content)) == (status, code)
    for subscription in (COURTS_CHANGED, MY_EVENTS, REGISTRATION_EVENTS):
        async with answer_to(api, path, subscription, headers) as (got, answered, body):
            assert (got, code_of(body)) == (status, code), (shape, subscription, body[:300])
            assert not answered["content-type"].startswith("text/event-stream")
            if status == 401:
                assert answered["www-authenticate"].startswith("Bearer error=")
                assert answered["www-authenticate"] == query.headers["www-authenticate"]
    assert api.app.state.hub.subscribers == 0 and len(api.app.state.connections) == 0


async def test_a_key_at_its_own_court_subscribes_to_nothing(api: Api) -> None:
    headers = {"authorization": f"Bearer {await mad_key(api)}"}
    async with answer_to(api, "/courts/mad/graphql", COURTS_CHANGED, headers) as (status, _, body):
        assert (status, code_of(body)) == (403, "FORBIDDEN")
        assert "may not subscribe" in json.loads(body)["errors"][0]["message"]
    async with gql_socket(api.app, "/courts/mad/graphql", headers=headers) as ws:
        await ws.send({"type": "connection_init"})
        closed = await ws.closed_with()
    assert closed.code == 4403 and "may not subscribe" in closed.reason


async def test_a_stale_cookie_on_a_stream_is_anonymous_and_cleared(api: Api) -> None:
    token = await filer(api)
    await api.data("mutation { signOut { ok } }", token=token)
    headers = {"cookie": f"NextGenCSO={token}"}
    async with answer_to(api, "/graphql", MY_EVENTS, headers) as (status, answered, _):
        # As a query: the cookie counts for nothing (anonymous), and the answer clears it.
        assert status == 200 and answered["content-type"].startswith("text/event-stream")
        assert "NextGenCSO=" in answered["set-cookie"] and "Max-Age=0" in answered["set-cookie"]


@pytest.mark.parametrize("where", ["connection_init", "handshake"])
@pytest.mark.parametrize(
    ("shape", "path", "reason"),
    [
        ("garbage bearer", "/courts/mab/graphql", "not valid"),
        ("basic", "/courts/mab/graphql", "Bearer <token>"),
        ("mad key at mab", "/courts/mab/graphql", "acts only at its court"),
        ("mad key at the national endpoint", "/graphql", "acts only at its court"),
    ],
)
async def test_a_websocket_refuses_the_credentials_a_query_refuses(
    api: Api, where: str, shape: str, path: str, reason: str
) -> None:
    authorization = await authorization_of(api, shape)
    headers = {"authorization": authorization} if where == "handshake" else {}
    async with gql_socket(api.app, path, headers=headers) as ws:
        payload = {"authorization": authorization} if where == "connection_init" else {}
        await ws.send({"type": "connection_init", "payload": payload})
        closed = await ws.closed_with()
    assert closed.code == 4403 and reason in closed.reason, closed


# --- 12a: a foreign clerk learns nothing of another court's privilege ---------------------------

REVOKE = """mutation($i: RevokeFilingPrivilegeInput!) { revokeFilingPrivilege(input: $i) {
  privilege { id revokedAt } errors { code message field } } }"""
MAD_PRIVILEGES = "{ privileges(first: 1) { edges { node { id revokedAt } } } }"


async def test_a_foreign_clerk_revoking_a_privilege_is_told_nothing(api: Api) -> None:
    mad, mab = await clerk(api, "mad"), await clerk(api, "mab")
    node = (await api.data(MAD_PRIVILEGES, court="mad", token=mad))["privileges"]["edges"][0]["node"]
    assert node["revokedAt"] is None
    foreign = await api.data(REVOKE, {"i": {"id": node["id"], "reason": "x"}}, court="mab", token=mab)
    unknown = await api.data(
        REVOKE, {"i": {"id": "RmlsaW5nUHJpdmlsZWdlOjk5OTk5", "reason": "x"}}, court="mab", token=mab
    )
    errors = foreign["revokeFilingPrivilege"]["errors"]
    assert [e["code"] for e in errors] == ["NOT_FOUND"]
    assert errors == unknown["revokeFilingPrivilege"]["errors"]  # word for word: nothing told
    assert "mad" not in errors[0]["message"]
    still = (await api.data(MAD_PRIVILEGES, court="mad", token=mad))["privileges"]["edges"][0]["node"]
    assert still == node


# --- 12b: made-up operation names ---------------------------------------------------------------


async def requests_by_operation(api: Api) -> dict[str, float]:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "nextgen_gql_requests_total" and sample.labels.get("route") == "graphql":
                name = sample.labels["operation"]
                counts[name] = counts.get(name, 0) + sample.value
    return counts


async def test_made_up_operation_names_neither_grow_the_labels_nor_push_real_ones_out(api: Api) -> None:
    bundle = json.loads(OPERATIONS_BUNDLE.read_text())
    before = await requests_by_operation(api)
    for i in range(210):
        await api.data(f"query Made{i}Up {{ courts {{ code }} }}")
    after = await requests_by_operation(api)
    assert not [name for name in after if name.startswith("Made")]
    assert after["(other)"] - before.get("(other)", 0) == 210
    # A real operation, afterwards: the front end's own (by id), one registered since the start.
    for _ in range(2):
        response = await api.client.post("/graphql", json={"documentId": bundle["Courts"]["id"]})
        assert response.status_code == 200 and response.json()["data"]["courts"]
    view = api.app.state.view
    await view.documents.add_trusted(documents_from_text("query Roster { courts { code name } }", "test"))
    key = documents_from_text("query Roster { courts { code name } }", "test")[0].key
    response = await api.client.post("/graphql", json={"documentId": key})
    assert response.status_code == 200, response.text
    last = await requests_by_operation(api)
    assert last["Courts"] - after.get("Courts", 0) == 2
    assert last["Roster"] - after.get("Roster", 0) == 1
    assert last["(other)"] == after["(other)"]


# --- 12c: WebSockets per address ----------------------------------------------------------------


async def open_sockets(app: Any, count: int, **kw: Any) -> list[GqlSocket]:
    sockets = []
    for _ in range(count):
        ws = gql_socket(app, **kw)
        await ws.__aenter__()
        sockets.append(ws)
    return sockets


async def close_all(sockets: list[GqlSocket]) -> None:
    for ws in sockets:
        await ws.__aexit__(None, None, None)


async def test_one_address_holds_at_most_50_websockets(api: Api) -> None:
    assert api.settings.max_websockets_per_address == 50
    held = await open_sockets(api.app, 50)
    try:
        await held[0].init()  # the ones held work
        extra = gql_socket(api.app)
        async with extra as ws:  # the 51st: accepted only to be closed 4429, before anything is read
            assert ws.subprotocol == "graphql-transport-ws"
            closed = await ws.closed_with()
        assert closed.code == 4429 and "at most 50" in closed.reason, closed
        # Another caller behind the (trusted, loopback) proxy is another address.
        async with gql_socket(api.app, headers={"x-forwarded-for": "198.51.100.23"}) as other:
            await other.init()
        # One closed: one more may open.
        await held.pop().__aexit__(None, None, None)
        async with gql_socket(api.app) as again:
            await again.init()
    finally:
        await close_all(held)
    for _ in range(100):  # each socket's task ends as its close is read
        if len(api.app.state.gate.sockets) == 0:
            break
        await asyncio.sleep(0.02)
    assert len(api.app.state.gate.sockets) == 0


async def test_callers_behind_one_proxy_count_by_their_forwarded_address(settings: Settings) -> None:
    async with running_api(settings.with_(max_websockets_per_address=2)) as api:
        forwarded = {"x-forwarded-for": "203.0.113.7"}
        held = await open_sockets(api.app, 2, headers=forwarded)
        try:
            # The same caller through the proxy: refused, whatever path or court it picks.
            for path in ("/graphql", "/courts/mab/graphql"):
                async with gql_socket(api.app, path, headers=forwarded) as ws:
                    assert (await ws.closed_with()).code == 4429
            # A spoofed left-hand hop counts for nothing (the proxy appended the real caller).
            spoofed = {"x-forwarded-for": "192.0.2.1, 203.0.113.7"}
            async with gql_socket(api.app, headers=spoofed) as ws:
                assert (await ws.closed_with()).code == 4429
            # The proxy itself, and other callers: their own counts.
            async with gql_socket(api.app) as ws:
                await ws.init()
        finally:
            await close_all(held)
        async with gql_socket(api.app, headers=forwarded) as ws:
            await ws.init()


def test_the_limit_is_a_setting_checked_at_start() -> None:
    assert (
        Settings.from_env({"NEXTGEN_GQL_MAX_WEBSOCKETS_PER_ADDRESS": "200"}).max_websockets_per_address == 200
    )
    assert Settings.from_env({}).max_websockets_per_address == 50
    for bad, says in (("0", "at least 1"), ("-3", "at least 1"), ("many", "must be an integer")):
        with pytest.raises(ValueError, match=says) as refused:
            Settings.from_env({"NEXTGEN_GQL_MAX_WEBSOCKETS_PER_ADDRESS": bad})
        assert "MAX_WEBSOCKETS_PER_ADDRESS" in str(refused.value)


async def test_a_refused_socket_never_reaches_the_protocol(api: Api) -> None:
    """Past the limit nothing of the socket is read: a connection_init sent at once gets no ack."""
    held = await open_sockets(api.app, 50)
    try:
        async with gql_socket(api.app) as ws:
            with contextlib.suppress(Closed):
                await ws.send({"type": "connection_init"})
            with pytest.raises(Closed) as closed:
                await ws.message()
        assert closed.value.code == 4429
    finally:
        await close_all(held)


def test_an_ipv6_64_is_one_address_and_a_closed_socket_gives_its_place_back() -> None:
    sockets = SocketsPerAddress(2)
    near = [{"client": (f"2001:db8:1:2::{i}", 1)} for i in range(3)]
    addresses = {sockets.address_of(scope) for scope in near}
    assert len(addresses) == 1  # rotating within one /64 is one caller
    address = addresses.pop()
    assert sockets.enter(address) and sockets.enter(address) and not sockets.enter(address)
    assert sockets.enter(sockets.address_of({"client": ("2001:db8:1:3::1", 1)}))  # another /64
    assert sockets.address_of({"client": ("::ffff:198.51.100.4", 1)}) == sockets.address_of(
        {"client": ("198.51.100.4", 1)}
    )
    sockets.leave(address)
    assert sockets.count(address) == 1 and sockets.enter(address)
