"""CSV exports' admission (``admission.exports``): their own cap per worker
(``NEXTGEN_GQL_MAX_EXPORTS``) and their price in points, over HTTP."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest import mock

from nextgen_gql.settings import Settings
from tests.api.test_move_to_nextgen import add_roster, sql
from tests.conftest import CLERK_PASSWORD, CLERKS, Api, running_api

PATH = "/courts/mad/exports/unlinked.csv"
RATE = "{ rateLimit { used limit } }"


async def used(api: Api, token: str) -> int:
    """The caller's points spent this hour (this query costs 1 of them)."""
    value: int = (await api.data(RATE, token=token))["rateLimit"]["used"]
    return value


async def unlinked(api: Api) -> int:
    rows = await sql(api, "SELECT COUNT(*) FROM cmecf_accounts WHERE court_id = 'mad' AND linked_at IS NULL")
    return int(rows[0][0])


async def test_an_export_costs_its_rows_and_is_refused_429_once_the_budget_is_spent(
    settings: Settings, tmp_path: Path
) -> None:
    async with running_api(settings.with_(rate_limit_points=40)) as api:
        await add_roster(api, tmp_path, 230, prefix="cost")
        rows = await unlinked(api)
        cost = math.ceil(rows / 100)
        assert cost >= 3
        clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
        auth = {"Authorization": f"Bearer {clerk}"}
        before = await used(api, clerk)
        answer = await api.client.get(PATH, headers=auth)
        assert answer.status_code == 200 and len(answer.text.splitlines()) == rows + 1
        assert await used(api, clerk) == before + 1 + cost  # the export, then this query
        # Spent until the next export cannot be paid for: refused, nothing written, nothing spent.
        while (left := 40 - await used(api, clerk)) >= cost:
            assert (await api.client.get(PATH, headers=auth)).status_code == 200
        spent = await used(api, clerk)
        refused = await api.client.get(PATH, headers=auth)
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        assert refused.headers["content-type"].startswith("application/json")
        body = refused.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"] and "data" not in body
        assert "login," not in refused.text
        assert await used(api, clerk) == spent + 1  # only the query that reads it
        assert left < cost
        assert api.app.state.exports.running == 0


async def test_past_the_exports_cap_an_export_is_refused_503_and_its_place_comes_back(
    settings: Settings,
) -> None:
    release, entered = asyncio.Event(), asyncio.Event()

    async def slow(court_code: str) -> AsyncIterator[bytes]:
        yield b"login\r\n"
        entered.set()
        await release.wait()

    async with running_api(settings.with_(max_exports=1, rate_limit_points=5000)) as api:
        clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
        auth = {"Authorization": f"Bearer {clerk}"}
        before = await used(api, clerk)
        with mock.patch("nextgen_gql.services.exports.unlinked_csv", side_effect=slow):
            first = asyncio.create_task(api.client.get(PATH, headers=auth))
            await asyncio.wait_for(entered.wait(), 10)
            assert api.app.state.exports.running == 1
            refused = await api.client.get(
                PATH, headers={**auth, "accept": "application/graphql-response+json"}
            )
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert refused.headers["content-type"].startswith("application/graphql-response+json")
            assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["OVERLOADED"]
            # Refused by the cap: not charged (what the first export cost, and this query).
            rows = await unlinked(api)
            assert await used(api, clerk) == before + max(1, math.ceil(rows / 100)) + 1
            # GraphQL is another cap: it answers meanwhile.
            assert (await api.post("{ courts { code } }")).status_code == 200
            release.set()
            assert (await first).status_code == 200
        assert api.app.state.exports.running == 0
        assert (await api.client.get(PATH, headers=auth)).status_code == 200
        metrics = (await api.client.get("/metrics")).text
        assert 'nextgen_gql_requests_shed_total{reason="exports"}' in metrics


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]
