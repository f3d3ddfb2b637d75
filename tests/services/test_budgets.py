"""Budgets shared through PostgreSQL (``services.budgets``): two workers' ``Budgets`` over one
database, the way ``serve --workers 2`` runs them."""

from __future__ import annotations

import asyncio

import pytest

from nextgen_gql.services import budgets as budgets_module
from nextgen_gql.services.budgets import Budgets
from tests import databases

postgres = pytest.mark.skipif(
    databases.backend() != "postgres", reason="budgets are shared through PostgreSQL"
)

TABLE = (
    "CREATE TABLE rate_spending (id serial PRIMARY KEY, caller varchar(80) NOT NULL, "
    "window_start bigint NOT NULL, points bigint NOT NULL, UNIQUE (caller, window_start))"
)


@pytest.fixture
async def url(fresh_database_url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(fresh_database_url)
    try:
        await conn.execute(TABLE)
    finally:
        await conn.close()
    return fresh_database_url


@postgres
async def test_a_worker_reads_a_caller_it_meets_first_from_the_shared_count(url: str) -> None:
    first, second = Budgets(100, database_url=url), Budgets(100, database_url=url)
    for sharing in (first, second):
        await sharing.start(interval=3600)  # sharing on; the tests sync by hand
    try:
        for _ in range(10):
            assert first.charge("addr:192.0.2.7", 1).allowed
        await first.sync()
        # The second worker has never seen this caller: it reads the 10 points before charging.
        await second.recall("addr:192.0.2.7")
        assert second.charge("addr:192.0.2.7", 1).used == 11
        # Its budget (20 points for an address) runs out there, not 10 points later.
        spent = [second.charge("addr:192.0.2.7", 1) for _ in range(10)]
        assert [s.allowed for s in spent] == [True] * 9 + [False]
        # A caller nobody has spent for is read once and starts at nothing.
        await second.recall("addr:192.0.2.8")
        assert second.charge("addr:192.0.2.8", 1).used == 1
    finally:
        await first.stop()
        await second.stop()


@postgres
async def test_callers_met_together_are_read_in_one_statement(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = Budgets(100, database_url=url), Budgets(100, database_url=url)
    for sharing in (first, second):
        await sharing.start(interval=3600)  # sharing on; the tests sync by hand
    try:
        for n in range(5):
            first.charge(f"account:{n}", n + 1)
        await first.sync()
        reads: list[list[str]] = []
        connection = await second._connection()

        class Counted:  # the budgets' connection, counting its reads
            async def fetch(self, sql: str, *args: object, **kwargs: object) -> object:
                reads.append(args[1])  # type: ignore[arg-type]
                return await connection.fetch(sql, *args, **kwargs)

            def __getattr__(self, name: str) -> object:
                return getattr(connection, name)

        second._conn = Counted()
        await asyncio.gather(*(second.recall(f"account:{n}") for n in range(5)))
        assert [len(r) for r in reads] == [5], reads
        assert [second.charge(f"account:{n}", 1).used for n in range(5)] == [2, 3, 4, 5, 6]
        # Seen this hour: no read at all.
        await second.recall("account:0")
        assert len(reads) == 1
    finally:
        await first.stop()
        await second.stop()


@postgres
async def test_a_database_that_does_not_answer_delays_a_request_a_quarter_second_at_most(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    budgets = Budgets(100, database_url=url)
    hanging = asyncio.Event()

    async def never(self: Budgets) -> None:
        await hanging.wait()

    monkeypatch.setattr(Budgets, "_connection", never)
    monkeypatch.setattr(budgets_module, "RECALL_WAIT_S", 0.05)
    await budgets.start(interval=3600)
    try:
        await asyncio.wait_for(budgets.recall("addr:192.0.2.9"), timeout=1)
        # The request goes on with what this worker knows.
        assert budgets.charge("addr:192.0.2.9", 1).used == 1
    finally:
        hanging.set()
        await budgets.stop()


async def test_sqlite_budgets_off_or_not_started_read_nothing() -> None:
    alone, off = Budgets(100), Budgets(0, database_url="postgres://nowhere.invalid/x")
    idle = Budgets(100, database_url="postgres://nowhere.invalid/x")  # an app without lifespan
    for budgets in (alone, off, idle):
        if budgets is not idle:
            await budgets.start(interval=3600)
        await budgets.recall("addr:192.0.2.1")
        assert budgets._reader is None
        await budgets.stop()
