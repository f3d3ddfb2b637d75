"""One deadline per request for every wait on the database (``NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS``,
``db_backends``), over HTTP, on the suite's database: PostgreSQL's request pool of one
connection, or SQLite's one connection, held by a slow request."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from unittest import mock

import pytest
from tortoise import connections

from nextgen_gql.models import Session
from nextgen_gql.settings import Settings
from tests.conftest import FILER, running_api

NODE = 'query { node(id: "UGFjZXJBY2NvdW50OjE") { id } }'
SIGN_IN = f'mutation {{ signIn(input: {{username: "{FILER[0]}", password: "{FILER[1]}"}}) {{ token }} }}'


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def database_sheds(metrics: str) -> float:
    """``nextgen_gql_requests_shed_total{reason="database"}`` (process-wide: compared before and after)."""
    found = re.search(r'^nextgen_gql_requests_shed_total\{reason="database"\} (\S+)$', metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def tight(settings: Settings) -> Settings:
    # The reference executor: its reads go through the ORM's connection on SQLite too.
    return settings.with_(
        db_pool_min=1,
        db_pool_max=1,
        db_acquire_timeout_ms=200,
        max_in_flight=10,
        compiled=False,
        compiled_check=False,
    )


async def test_a_request_past_its_database_deadline_is_shed_with_503_overloaded(settings: Settings) -> None:
    release = asyncio.Event()
    holding = asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> None:
        # The one connection (PostgreSQL: the pool's only one; SQLite: its lock), held.
        async with connections.get("default").acquire_connection():
            holding.set()
            await release.wait()

    async with running_api(tight(settings)) as api:
        token = await api.sign_in(*FILER)
        sessions = await Session.all().count()
        shed_before = database_sheds((await api.client.get("/metrics")).text)
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=slow):
            held = asyncio.create_task(api.post(NODE))
            await asyncio.wait_for(holding.wait(), 10)
            shed = await api.post("{ me { id username } }", token=token)
            assert shed.status_code == 503, shed.text
            assert shed.headers["retry-after"] == "1"
            body = shed.json()
            assert "data" not in body and codes(body) == ["OVERLOADED"]
            assert "database" in body["errors"][0]["message"]
            # A mutation that never got a connection wrote nothing: 503 too, and no session.
            refused = await api.post(SIGN_IN)
            assert refused.status_code == 503 and codes(refused.json()) == ["OVERLOADED"]
            assert "set-cookie" not in refused.headers
            assert not held.done()  # answered while the connection was still held
            release.set()
            assert (await held).status_code == 200
        assert await Session.all().count() == sessions
        # The connection is free again: the same query answers.
        me = await api.data("{ me { username } }", token=token)
        assert me["me"]["username"] == FILER[0]
        assert database_sheds((await api.client.get("/metrics")).text) == shed_before + 2


async def test_a_mutation_that_wrote_is_never_turned_into_a_503(settings: Settings) -> None:
    from nextgen_gql.services import auth

    real_sign_out = auth.sign_out
    wrote = asyncio.Event()
    held = asyncio.Event()

    async def sign_out_then_wait(session: Any) -> None:
        await real_sign_out(session)  # written: the session is revoked
        wrote.set()
        await held.wait()  # the test now holds the one connection
        await Session.filter(id=session.id).count()  # waits past the deadline

    async with running_api(tight(settings)) as api:
        token = await api.sign_in(*FILER)
        release = asyncio.Event()

        async def hold() -> None:
            async with connections.get("default").acquire_connection():
                held.set()
                await release.wait()

        with mock.patch("nextgen_gql.api.mutations.accounts.auth.sign_out", side_effect=sign_out_then_wait):
            answer = asyncio.create_task(api.post("mutation { signOut { ok } }", token=token))
            await asyncio.wait_for(wrote.wait(), 10)
            holder = asyncio.create_task(hold())
            response = await asyncio.wait_for(answer, 10)
            release.set()
            await holder
        assert response.status_code == 200, response.text
        body = response.json()
        assert codes(body) == ["OVERLOADED"] and body["errors"][0]["path"] == ["signOut"]
        # What it wrote stands: the token no longer signs in.
        assert (await api.post("{ me { id } }", token=token)).status_code == 401


@pytest.mark.parametrize("value", ["0", "-5", "600001", "soon"])
def test_a_bad_acquire_timeout_stops_the_start_naming_the_setting(value: str) -> None:
    with pytest.raises(ValueError, match="NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS"):
        Settings.from_env({"NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS": value})


def test_the_acquire_timeout_defaults_to_a_second() -> None:
    assert Settings.from_env({}).db_acquire_timeout_ms == 1000
    assert Settings.from_env({"NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS": "250"}).db_acquire_timeout_ms == 250
