"""Load shedding: the in-flight limit per worker (``NEXTGEN_GQL_MAX_IN_FLIGHT``), over HTTP."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

from nextgen_gql.models import Session
from nextgen_gql.settings import Settings
from tests.conftest import FILER, running_api

NODE = 'query { node(id: "UGFjZXJBY2NvdW50OjE") { id } }'


async def test_past_the_in_flight_limit_a_request_is_shed_with_503_overloaded(settings: Settings) -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> None:
        entered.set()
        await release.wait()

    async with running_api(settings.with_(max_in_flight=1)) as api:
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=slow):
            held = asyncio.create_task(api.post(NODE))
            await asyncio.wait_for(entered.wait(), 10)
            shed = await api.post("{ courts { code } }")
            assert shed.status_code == 503 and shed.headers["retry-after"] == "1"
            body = shed.json()
            assert "data" not in body and [e["extensions"]["code"] for e in body["errors"]] == ["OVERLOADED"]
            # A mutation shed writes nothing.
            sessions = await Session.all().count()
            sign_in = f'mutation {{ signIn(input: {{username: "{FILER[0]}", password: "{FILER[1]}"}}) {{ token }} }}'
            refused = await api.post(sign_in)
            assert refused.status_code == 503 and "set-cookie" not in refused.headers
            assert await Session.all().count() == sessions
            # Health and metrics are not counted.
            assert (await api.client.get("/healthz")).status_code == 200
            assert (await api.client.get("/metrics")).status_code == 200
            release.set()
            assert (await held).status_code == 200
        # The slot is free again.
        assert (await api.post("{ courts { code } }")).status_code == 200
        assert api.app.state.in_flight.in_flight == 0


async def test_the_default_limit_is_twice_the_pool() -> None:
    assert Settings().max_in_flight == 20
    assert Settings(db_pool_max=4).max_in_flight == 8
    assert Settings.from_env({"NEXTGEN_GQL_MAX_IN_FLIGHT": "3"}).max_in_flight == 3
