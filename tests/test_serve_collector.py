"""``serve`` tunes the cyclic garbage collector once each process's app has started
(``cli.serve.tune_collector``): what start-up left alive is frozen out of the collector's
sight and the youngest generation's threshold is raised. The suite's own apps keep Python's
defaults (they start by the hundred in one process)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from nextgen_gql.app import create_app
from nextgen_gql.cli.serve import GC_THRESHOLD, served
from nextgen_gql.settings import Settings
from tests.conftest import STARTUP


@pytest.fixture
def collector() -> Iterator[None]:
    """Python's collector as it was, given back after the test."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_a_served_app_tunes_the_collector_after_its_start_and_answers(
    settings: Settings, collector: None
) -> None:
    gc.unfreeze()
    app = served(create_app(settings))
    assert gc.get_freeze_count() == 0 and gc.get_threshold()[0] != GC_THRESHOLD  # not before it starts
    async with LifespanManager(app, startup_timeout=STARTUP, shutdown_timeout=STARTUP) as manager:
        assert gc.get_threshold()[0] == GC_THRESHOLD
        assert gc.get_freeze_count() > 10_000  # start-up's objects: the schema, plans, modules
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.post("/graphql", json={"query": "{ courts { code } }"})
        assert answer.status_code == 200 and answer.json()["data"]["courts"]


async def test_the_suites_apps_keep_the_defaults(settings: Settings, collector: None) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    async with LifespanManager(create_app(settings), startup_timeout=STARTUP, shutdown_timeout=STARTUP):
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
