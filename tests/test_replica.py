"""A read replica (``NEXTGEN_GQL_REPLICA_DATABASE_URL``): queries' data reads on a real streaming
replica, each caller reading its own writes, and the replica left aside when it stops or lags.

The PostgreSQL leg makes its own replica of the suite's server (``scripts/pg-replica``:
``pg_basebackup -R`` and a hot standby on a free port, or ``NEXTGEN_GQL_TEST_REPLICA_PORT``).
Where reads went is proved by data the replica does not have: with its replay paused
(``pg_wal_replay_pause()``), a change made on the database afterwards is seen by a request
that read the database and not by one that read the replica. On SQLite only the refusal of the
setting and the rules of the lag run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from nextgen_gql import replica
from nextgen_gql.replica.health import ReplicaHealth
from nextgen_gql.services.courts import grant_clerk
from nextgen_gql.settings import Settings
from tests import databases
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, REPO, Api, running_api

postgres_only = pytest.mark.skipif(
    databases.POSTGRES is None,
    reason="a read replica is a PostgreSQL streaming replica: set NEXTGEN_GQL_TEST_POSTGRES to run these",
)

ME = "{ me { username firstName } }"
ROSTER = "{ cmecfAccounts(first: 100) { edges { node { login linkedAccount { username firstName } } } } }"
#: A demo account linked at mad (its first name shows on mad's roster page).
PROBE_NAME = "Probe-Not-On-The-Replica"


# --- The setting ---------------------------------------------------------------------------


def test_a_replica_beside_sqlite_is_refused_at_start_up() -> None:
    with pytest.raises(
        ValueError, match="REPLICA_DATABASE_URL is set but NEXTGEN_GQL_DATABASE_URL is SQLite"
    ):
        Settings.from_env(
            {
                "NEXTGEN_GQL_DATABASE_URL": "sqlite://nextgen.sqlite3",
                "NEXTGEN_GQL_REPLICA_DATABASE_URL": "postgres://reader@replica:5432/nextgen",
            }
        )
    with pytest.raises(ValueError, match="REPLICA_DATABASE_URL must be a PostgreSQL URL"):
        Settings(database_url="postgres://u@db/n", replica_database_url="sqlite://copy.sqlite3")
    with pytest.raises(ValueError, match="REPLICA_MAX_LAG_MS must be from 1 to 3600000"):
        Settings.from_env({"NEXTGEN_GQL_REPLICA_MAX_LAG_MS": "0"})
    given = Settings.from_env(
        {
            "NEXTGEN_GQL_DATABASE_URL": "postgres://u@db/n",
            "NEXTGEN_GQL_REPLICA_DATABASE_URL": "postgres://u@replica/n",
        }
    )
    assert given.replica_max_lag_ms == 5000
    assert given.replica_connection_url == "postgres://u@replica/n?minsize=1&maxsize=10"


def test_serve_refuses_a_replica_beside_sqlite_with_the_reason(tmp_path: Any) -> None:
    env = {
        **os.environ,
        "NEXTGEN_GQL_DATABASE_URL": f"sqlite://{tmp_path / 'n.sqlite3'}",
        "NEXTGEN_GQL_REPLICA_DATABASE_URL": "postgres://reader@127.0.0.1:1/nextgen",
    }
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "nextgen-gql"), "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done
    assert "NEXTGEN_GQL_REPLICA_DATABASE_URL is set but NEXTGEN_GQL_DATABASE_URL is SQLite" in done.stderr


# --- The lag, measured against the database's positions (no server) ---------------------------


class _Positions:
    def __init__(self) -> None:
        self.now = 100.0
        self.flushed = 1000
        self.replayed: int | None = 1000
        self.in_recovery = True
        self.reachable = True

    def clock(self) -> float:
        return self.now

    async def database(self) -> int:
        return self.flushed

    async def replica(self) -> tuple[bool, int | None]:
        if not self.reachable:
            raise ConnectionRefusedError("replica down")
        return self.in_recovery, self.replayed


async def test_the_lag_is_the_age_of_the_oldest_change_not_replayed(caplog: pytest.LogCaptureFixture) -> None:
    at = _Positions()
    health = ReplicaHealth(2000, at.database, at.replica, clock=at.clock)
    set_aside: list[str] = []
    health.on_set_aside = set_aside.append
    await health.check()
    assert health.state is not None and health.state.usable and health.state.lag_s == 0
    # An idle database: the replica has everything, however long nothing happens.
    at.now += 600
    await health.check()
    assert health.state.usable and health.state.lag_s == 0
    # The database moves on; the replica stops replaying at 1000.
    at.flushed = 2000
    await health.check()
    assert health.state.usable and health.state.lag_s == 0  # first seen now
    at.now += 1.5
    at.flushed = 3000
    await health.check()
    assert health.state.usable and health.state.lag_s == pytest.approx(1.5)
    at.now += 1.0
    with caplog.at_level(logging.INFO, logger="nextgen_gql.replica"):
        await health.check()
        assert not health.state.usable and health.state.why_not == "lagging"
        assert health.state.lag_s == pytest.approx(2.5)
        # It replays what the database had 2.5 s ago, not what it had 1 s ago: still 1 s behind.
        at.replayed = 2000
        await health.check()
        assert health.state.usable and health.state.lag_s == pytest.approx(1.0)
        at.replayed = 3000
        await health.check()
        assert health.state.usable and health.state.lag_s == 0
        at.reachable = False
        await health.check()
        assert not health.state.usable and health.state.why_not == "down"
        at.reachable = True
        at.in_recovery, at.replayed = False, None
        await health.check()
        assert not health.state.usable and health.state.why_not == "not_replica"
    assert set_aside == ["lagging", "down", "not_replica"]
    lines = [r.getMessage() for r in caplog.records if r.name == "nextgen_gql.replica"]
    assert any(
        "left aside (lagging)" in line and "2.5 s behind, over the 2000 ms allowed" in line for line in lines
    )
    assert any(line.startswith("replica: in use") for line in lines)
    assert any("left aside (down)" in line and "ConnectionRefusedError" in line for line in lines)


# --- A real replica ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _script(*args: str) -> None:
    subprocess.run([str(REPO / "scripts" / "pg-replica"), *args], check=True, timeout=300)


@pytest.fixture(scope="module")
def replica_server() -> Iterator[tuple[str, str]]:
    """A streaming replica of the suite's PostgreSQL server: (its folder, its server URL)."""
    assert databases.POSTGRES is not None
    primary = urlsplit(databases.POSTGRES)
    if primary.hostname not in ("127.0.0.1", "localhost"):
        pytest.skip("the replica is made with pg_basebackup from a server on this machine")
    port = int(os.environ.get("NEXTGEN_GQL_TEST_REPLICA_PORT") or _free_port())
    # Under /tmp, not pytest's folder: the server runs as the postgres user, which must reach it.
    folder = tempfile.mkdtemp(prefix="nextgen-replica-", dir="/tmp")
    _script("start", folder, str(port), str(primary.port or 5432))
    try:
        yield folder, f"postgres://postgres@127.0.0.1:{port}"
    finally:
        _script("stop", folder)


async def _sql(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


class Replicated:
    """The app under test, its database, and the replica that serves its reads."""

    def __init__(self, api: Api, database_url: str, replica_url: str, server: str) -> None:
        self.api = api
        self.database_url = database_url
        self.replica_url = replica_url
        #: The replica server's maintenance database (to pause and resume replay).
        self.server = f"{server}/postgres"

    @property
    def health(self) -> ReplicaHealth:
        found = replica.current()
        assert found is not None, "no replica is serving"
        return found.health

    async def primary(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await _sql(self.database_url, sql, *args)

    async def on_replica(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await _sql(self.replica_url, sql, *args)

    async def in_use(self, within_s: float = 60) -> None:
        """Until the worker sends reads to the replica (its checks run when asked)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + within_s
        while True:
            found = await self.health.current()
            if found is not None and found.usable:
                return
            assert loop.time() < until, f"the replica is not in use after {within_s} s: {found}"
            await asyncio.sleep(0.05)

    async def caught_up(self, within_s: float = 60) -> None:
        """Until the replica has replayed everything written so far, and the worker knows it."""
        (row,) = await self.primary("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")
        target = int(row[0])
        loop = asyncio.get_running_loop()
        until = loop.time() + within_s
        while True:
            found = await self.health.current()
            if found is not None and found.usable and found.replay_lsn >= target:
                return
            assert loop.time() < until, (
                f"the replica did not replay up to {target} within {within_s} s: {found}"
            )
            await asyncio.sleep(0.05)

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """The replica replays nothing within (``pg_wal_replay_pause()``)."""
        await _sql(self.server, "SELECT pg_wal_replay_pause()")
        loop = asyncio.get_running_loop()
        until = loop.time() + 30
        while (await _sql(self.server, "SELECT pg_get_wal_replay_pause_state()"))[0][0] != "paused":
            assert loop.time() < until, "replay did not pause"
            await asyncio.sleep(0.02)
        try:
            yield
        finally:
            await self.resume()

    async def resume(self) -> None:
        await _sql(self.server, "SELECT pg_wal_replay_resume()")


@pytest.fixture
def replica_options() -> dict[str, Any]:
    """Settings a test changes (``pytest.mark.parametrize("replica_options", ...)``)."""
    return {}


@pytest.fixture
async def replicated(
    settings: Settings, replica_server: tuple[str, str], replica_options: dict[str, Any]
) -> AsyncIterator[Replicated]:
    """The demo's service over the suite's database, with its replica (a lag of a minute
    allowed unless the test says otherwise, so that a pause does not set it aside)."""
    _, server = replica_server
    replica_url = f"{server}/{settings.database_url.rsplit('/', 1)[1]}"
    # The copied database reaches the replica a moment after it was made on the server.
    loop = asyncio.get_running_loop()
    until = loop.time() + 60
    while True:
        try:
            await _sql(replica_url, "SELECT 1")
            break
        except (OSError, asyncpg.PostgresError):
            assert loop.time() < until, "the test's database did not reach the replica"
            await asyncio.sleep(0.1)
    # Two executors would answer from different servers while the replica lags: no
    # compiled-against-reference check here (each executor is tested on its own).
    options = {"replica_max_lag_ms": 60_000, "compiled_check": False, **replica_options}
    async with running_api(settings.with_(replica_database_url=replica_url, **options)) as api:
        replicated = Replicated(api, settings.database_url, replica_url, server)
        try:
            await replicated.in_use()
            yield replicated
        finally:
            await replicated.resume()  # never leave it paused for the next test


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.name == "nextgen_gql.request"]  # type: ignore[attr-defined]


async def reads_of(
    caplog: pytest.LogCaptureFixture, api: Api, query: str, **kw: Any
) -> tuple[dict[str, Any], str]:
    """A query's data, and where its data reads went (its request log line says)."""
    caplog.clear()
    data = await api.data(query, **kw)
    (line,) = [fields for fields in request_lines(caplog) if fields.get("operation_type") == "query"]
    return data, str(line["reads"])


def first_names(page: dict[str, Any]) -> dict[str, str]:
    """The linked owners' first names on a roster page, by username."""
    return {
        edge["node"]["linkedAccount"]["username"]: edge["node"]["linkedAccount"]["firstName"]
        for edge in page["cmecfAccounts"]["edges"]
        if edge["node"]["linkedAccount"] is not None
    }


@postgres_only
@pytest.mark.parametrize("replica_options", [{}, {"compiled": False}], ids=["compiled", "reference"])
async def test_other_accounts_read_the_replica_and_a_writer_the_database_until_replayed(
    replicated: Replicated, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    api = replicated.api
    mad = api.app.state.courts.current.serve("mad")
    await grant_clerk(mad, FILER[0])  # a second clerk of mad, who writes nothing below
    writer = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    other = await api.sign_in(*FILER)
    before = first_names(await api.data(ROSTER, court="mad", token=other))
    owner = sorted(before)[0]
    await replicated.caught_up()  # the sign-ins (writes) replayed: both read the replica
    async with replicated.paused():
        await replicated.primary(
            "UPDATE pacer_accounts SET first_name = $1 WHERE username = $2", PROBE_NAME, owner
        )
        for token in (writer, other):
            page, reads = await reads_of(caplog, api, ROSTER, court="mad", token=token)
            assert (first_names(page)[owner], reads) == (before[owner], "replica")
        # The writer writes (any mutation): from now on it reads the database, which has the change.
        await api.data("mutation { signOutOtherSessions { ok } }", court="mad", token=writer)
        page, reads = await reads_of(caplog, api, ROSTER, court="mad", token=writer)
        assert (first_names(page)[owner], reads) == (PROBE_NAME, "primary_own_write")
        # The other clerk still reads the replica, which has neither the write nor the change.
        page, reads = await reads_of(caplog, api, ROSTER, court="mad", token=other)
        assert (first_names(page)[owner], reads) == (before[owner], "replica")
        replayed = await replicated.on_replica(
            "SELECT first_name FROM pacer_accounts WHERE username = $1", owner
        )
        assert replayed[0][0] == before[owner]
    await replicated.caught_up()
    for token in (writer, other):  # replayed: both read the replica again, and it has it all
        page, reads = await reads_of(caplog, api, ROSTER, court="mad", token=token)
        assert (first_names(page)[owner], reads) == (PROBE_NAME, "replica")
