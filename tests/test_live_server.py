"""Live updates against the real server (`nextgen-gql serve`, uvicorn over TCP): the WebSocket
handshake and its refusals, a subscription end to end, server-sent events through uvicorn,
a stop with connections open; on PostgreSQL, a change made on one server reaching the
subscribers of another, and of every worker of `serve --workers 2`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests import databases
from tests.conftest import CLERK_PASSWORD, FILER
from tests.test_server import gql, serving

pytestmark = pytest.mark.server

QUEUE = "subscription { registrationEvents { kind registration { id account { username } } } }"
SUBMIT = "mutation { submitRegistration(input: {role: MEDIA}) { registration { id } errors { code } } }"
WITHDRAW = "mutation($id: ID!) { withdrawRegistration(id: $id) { errors { code } } }"


def sign_in(base: str, username: str, password: str) -> str:
    data = gql(
        base,
        "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }",
        {"u": username, "p": password},
    )
    token: str = data["signIn"]["token"]  # type: ignore[index]
    return token


@contextmanager
def socket(base: str, path: str, token: str | None = None) -> Iterator[ClientConnection]:
    url = base.replace("http://", "ws://") + path
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"} if token else {}}
            )
        )
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        yield ws


def next_of(ws: ClientConnection, id: str, timeout: float = 5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] == "ping":
            ws.send(json.dumps({"type": "pong"}))
            continue
        assert message.get("id") == id and message["type"] == "next", message
        payload: dict[str, Any] = message["payload"]
        return payload


def submit(base: str, token: str) -> str:
    data = gql(base, SUBMIT, court="mad", token=token)
    return str(data["submitRegistration"]["registration"]["id"])  # type: ignore[index]


def heard(ws: ClientConnection, base: str, filer: str, id: str = "q") -> dict[str, Any]:
    """Submit until the socket hears it (its subscription reaches the server's hub at its pace)."""
    for _ in range(4):
        registration = submit(base, filer)
        try:
            return next_of(ws, id, timeout=2)
        except TimeoutError:
            gql(base, WITHDRAW, {"id": registration}, court="mad", token=filer)
    raise AssertionError("the subscription heard nothing")


def test_a_subscription_end_to_end_and_a_stop_with_connections_open(
    tmp_path: Path, fresh_database_url: str
) -> None:
    with serving(tmp_path, "--demo", database_url=fresh_database_url) as base:
        # The handshake is addressed as HTTP is: an unknown court is a 404 with the usual body.
        with (
            pytest.raises(InvalidStatus) as refused,
            connect(
                base.replace("http://", "ws://") + "/courts/zzz/graphql",
                subprotocols=["graphql-transport-ws"],
            ),
        ):  # type: ignore[list-item]
            pass
        assert refused.value.response.status_code == 404
        assert b"UNKNOWN_COURT" in refused.value.response.body
        clerk = sign_in(base, "madclerk01", CLERK_PASSWORD)
        filer = sign_in(base, *FILER)
        with socket(base, "/courts/mad/graphql", clerk) as ws:
            ws.send(json.dumps({"type": "subscribe", "id": "q", "payload": {"query": QUEUE}}))
            event = heard(ws, base, filer)["data"]["registrationEvents"]
            assert event["kind"] == "SUBMITTED" and event["registration"]["account"]["username"] == FILER[0]
            # A message over the size limit (NEXTGEN_GQL_MAX_BODY_BYTES) is refused by the server (1009).
            ws.send(json.dumps({"type": "subscribe", "id": "big", "payload": {"query": "x" * 70_000}}))
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        # A server-sent-events stream through uvicorn, and an open socket, when the server stops.
        stream = httpx.stream(
            "POST",
            f"{base}/graphql",
            json={"query": "subscription { courtsChanged { code } }"},
            headers={"accept": "text/event-stream"},
            timeout=30,
        )
        response = stream.__enter__()
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/event-stream"
        )
        open_socket = socket(base, "/graphql")
        ws = open_socket.__enter__()
        codes: list[int] = []

        def read_until_closed() -> None:
            try:
                while True:
                    ws.recv(timeout=30)
            except ConnectionClosed as exc:
                codes.append(exc.rcvd.code if exc.rcvd else 1006)

        reader = threading.Thread(target=read_until_closed, daemon=True)
        reader.start()
    # serving() stopped the server with SIGINT and checked it exited 0 within 15 s.
    reader.join(timeout=5)
    assert codes == [1001], codes  # going away, at once (graphql-ws reconnects)
    stream.__exit__(None, None, None)


@pytest.mark.skipif(databases.backend() != "postgres", reason="several processes need PostgreSQL")
def test_a_change_on_one_server_reaches_the_subscribers_of_another(
    tmp_path: Path, fresh_database_url: str
) -> None:
    with ExitStack() as stack:
        bases = []
        for name in ("a", "b"):
            workdir = tmp_path / name
            workdir.mkdir()
            bases.append(stack.enter_context(serving(workdir, "--demo", database_url=fresh_database_url)))
        a, b = bases
        clerk = sign_in(a, "madclerk01", CLERK_PASSWORD)
        filer = sign_in(b, *FILER)
        with socket(a, "/courts/mad/graphql", clerk) as ws:
            ws.send(json.dumps({"type": "subscribe", "id": "q", "payload": {"query": QUEUE}}))
            time.sleep(0.5)
            started = time.monotonic()
            event = heard(ws, b, filer)["data"]["registrationEvents"]  # committed on b
            assert event["kind"] == "SUBMITTED"
            assert time.monotonic() - started <= 2.0


@pytest.mark.skipif(databases.backend() != "postgres", reason="several workers need PostgreSQL")
def test_every_worker_of_serve_workers_hears_every_change(tmp_path: Path, fresh_database_url: str) -> None:
    with serving(tmp_path, "--demo", "--workers", "2", database_url=fresh_database_url) as base:
        clerk = sign_in(base, "madclerk01", CLERK_PASSWORD)
        filer = sign_in(base, *FILER)
        with ExitStack() as stack:
            sockets = [stack.enter_context(socket(base, "/courts/mad/graphql", clerk)) for _ in range(8)]
            for ws in sockets:
                ws.send(json.dumps({"type": "subscribe", "id": "q", "payload": {"query": QUEUE}}))
            time.sleep(1.5)  # every subscription reached its worker's hub
            for _ in range(3):  # each change made by whichever worker takes the request
                registration = submit(base, filer)
                kinds = [next_of(ws, "q")["data"]["registrationEvents"]["kind"] for ws in sockets]
                assert kinds == ["SUBMITTED"] * 8
                gql(base, WITHDRAW, {"id": registration}, court="mad", token=filer)
                kinds = [next_of(ws, "q")["data"]["registrationEvents"]["kind"] for ws in sockets]
                assert kinds == ["WITHDRAWN"] * 8
