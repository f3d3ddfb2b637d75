"""A client that disconnects, against the real server (``nextgen-gql serve``) over a real socket:
a query is abandoned (cancelled: ``nextgen_gql_requests_abandoned_total``), a mutation that
started finishes and what it writes is there.

The server is made slow from outside, on PostgreSQL: the test holds an exclusive lock on the
``sessions`` table, so a signed-in request waits in its first statement until the test lets go.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from tests import databases
from tests.conftest import FILER
from tests.test_server import serving

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(databases.backend() != "postgres", reason="the server is held by a PostgreSQL lock"),
]

SIGN_IN = "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }"


def sign_in(base: str) -> str:
    with httpx.Client(timeout=30) as client:
        answer = client.post(
            base + "/graphql", json={"query": SIGN_IN, "variables": {"u": FILER[0], "p": FILER[1]}}
        )
    token: str = answer.json()["data"]["signIn"]["token"]
    return token


def abandoned(base: str) -> float:
    text = httpx.get(base + "/metrics", timeout=10).text
    found = re.search(r"^nextgen_gql_requests_abandoned_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@asynccontextmanager
async def sessions_locked(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        try:
            yield conn
        finally:
            await transaction.rollback()
    finally:
        await conn.close()


async def waiting_on_the_lock(conn: asyncpg.Connection) -> None:
    """Until a backend waits for the lock the test holds."""
    for _ in range(200):
        if await conn.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted") > 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no request came to wait on the lock")


async def send_then_close(port: int, query: str, token: str, conn: asyncpg.Connection) -> None:
    """Send one request on a raw socket, wait until the server is held inside it, and close."""
    body = orjson.dumps({"query": query})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    await waiting_on_the_lock(conn)
    writer.transport.abort()  # the client goes away (a reset, as a killed client's)
    del reader


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def test_a_query_whose_client_disconnects_is_abandoned(tmp_path: Path, fresh_database_url: str) -> None:
    env = {"NEXTGEN_GQL_RATE_LIMIT_POINTS": "0"}
    with serving(tmp_path, "--demo", database_url=fresh_database_url, env=env) as base:
        token = sign_in(base)
        before = abandoned(base)

        async def run() -> None:
            async with sessions_locked(fresh_database_url) as conn:
                await send_then_close(port_of(base), "{ me { id username } }", token, conn)
                # Cancelled while the lock is still held: it never got to answer.
                for _ in range(100):
                    if abandoned(base) != before:
                        break
                    await asyncio.sleep(0.1)
                assert abandoned(base) == before + 1
                # Its statement was cancelled too: nothing waits on the lock any more.
                await asyncio.sleep(0.3)
                assert await conn.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted") == 0

        asyncio.run(run())
        # The server goes on answering.
        with httpx.Client(timeout=30) as client:
            me = client.post(
                base + "/graphql",
                json={"query": "{ me { username } }"},
                headers={"authorization": f"Bearer {token}"},
            )
        assert me.json()["data"]["me"]["username"] == FILER[0]


def test_a_started_mutation_finishes_after_its_client_disconnects(
    tmp_path: Path, fresh_database_url: str
) -> None:
    env = {"NEXTGEN_GQL_RATE_LIMIT_POINTS": "0"}
    with serving(tmp_path, "--demo", database_url=fresh_database_url, env=env) as base:
        token = sign_in(base)
        before = abandoned(base)
        revoked = "SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL"
        already = databases.query(fresh_database_url, revoked)[0][0]

        async def run() -> None:
            async with sessions_locked(fresh_database_url) as conn:
                await send_then_close(port_of(base), "mutation { signOut { ok } }", token, conn)
                await asyncio.sleep(0.5)  # the client is gone; the mutation still waits for the lock

        asyncio.run(run())
        # The lock is released: the mutation goes on and its write lands.
        deadline = time.monotonic() + 10
        while databases.query(fresh_database_url, revoked)[0][0] == already and time.monotonic() < deadline:
            time.sleep(0.1)
        assert databases.query(fresh_database_url, revoked)[0][0] == already + 1
        assert abandoned(base) == before
        with httpx.Client(timeout=30) as client:
            after = client.post(
                base + "/graphql",
                json={"query": "{ me { id } }"},
                headers={"authorization": f"Bearer {token}"},
            )
        assert after.status_code == 401  # signed out: the token no longer holds
