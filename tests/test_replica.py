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
import datetime as dt
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
from graphql import (
    GraphQLInputType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_enum_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from prometheus_client.parser import text_string_to_metric_families

from nextgen_gql import replica
from nextgen_gql.replica.health import ReplicaHealth
from nextgen_gql.services.courts import grant_clerk, revoke_clerk
from nextgen_gql.settings import Settings
from tests import databases
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, REPO, Api, running_api

postgres_only = pytest.mark.skipif(
    databases.POSTGRES is None,
    reason="a read replica is a PostgreSQL streaming replica: set NEXTGEN_GQL_TEST_POSTGRES to run these",
)

ME = "{ me { username firstName } }"
ROSTER = "{ cmecfAccounts(first: 100) { edges { node { login linkedAccount { username firstName } } } } }"
#: A first name set on the database while the replica does not replay: who sees it read there.
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
    """The demo's service over the suite's database, with its replica (a lag of an hour allowed
    unless the test says otherwise, so that a pause does not set it aside)."""
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
    options = {"replica_max_lag_ms": 3_600_000, "compiled_check": False, **replica_options}
    async with running_api(settings.with_(replica_database_url=replica_url, **options)) as api:
        replicated = Replicated(api, settings.database_url, replica_url, server)
        try:
            await replicated.in_use()
            yield replicated
        finally:
            await replicated.resume()  # never leave it paused for the next test


async def reads_of(
    caplog: pytest.LogCaptureFixture, api: Api, query: str, **kw: Any
) -> tuple[dict[str, Any], str]:
    """A query's data, and where its data reads went (its request log line says)."""
    start = len(caplog.records)
    data = await api.data(query, **kw)
    (line,) = [
        r.fields  # type: ignore[attr-defined]
        for r in caplog.records[start:]
        if r.name == "nextgen_gql.request" and r.fields.get("operation_type") == "query"  # type: ignore[attr-defined]
    ]
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


# --- Read-your-writes after every mutation -----------------------------------------------------

_SCALARS: dict[str, Any] = {
    "String": "x",
    "ID": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "Date": "2026-01-05",
    "DateTime": "2026-01-05T00:00:00+00:00",
}


def _value(type_: GraphQLInputType) -> Any:
    """A value of the type that coerces (what it means to the domain does not matter here)."""
    if is_non_null_type(type_):
        return _value(type_.of_type)
    if is_list_type(type_):
        return [_value(type_.of_type)]
    if is_enum_type(type_):
        return next(iter(type_.values))
    if is_input_object_type(type_):
        return {
            name: _value(field.type)
            for name, field in type_.fields.items()
            if is_non_null_type(field.type) and field.default_value is Undefined
        }
    return _SCALARS[type_.name]


def every_mutation(schema: GraphQLSchema) -> list[tuple[str, str, dict[str, Any]]]:
    """Each mutation of the schema as a document with its required arguments, and values."""
    assert schema.mutation_type is not None
    found = []
    for name, field in schema.mutation_type.fields.items():
        required = [
            (n, a) for n, a in field.args.items() if is_non_null_type(a.type) and a.default_value is Undefined
        ]
        definitions = ", ".join(f"${n}: {a.type}" for n, a in required)
        arguments = ", ".join(f"{n}: ${n}" for n, _ in required)
        selection = " { __typename }" if is_object_type(get_named_type(field.type)) else ""
        document = (
            f"mutation{f'({definitions})' if definitions else ''} "
            f"{{ {name}{f'({arguments})' if arguments else ''}{selection} }}"
        )
        found.append((name, document, {n: _value(a.type) for n, a in required}))
    return found


@postgres_only
async def test_after_every_mutation_its_caller_reads_the_database_until_the_replica_replayed_it(
    replicated: Replicated, caplog: pytest.LogCaptureFixture
) -> None:
    """Every mutation of the schema, with values that coerce (most are refused by the domain:
    a mutation may have written before it refused, so the rule does not ask whether it did).
    Before each, the caller reads the replica; after it, the database. ``signOut`` leaves no
    caller to read anything (its token is refused at once: the test below)."""
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    api = replicated.api
    token = await api.sign_in(*FILER)
    ((account_id, old_name),) = await replicated.primary(
        "SELECT id, first_name FROM pacer_accounts WHERE username = $1", FILER[0]
    )
    await replicated.caught_up()
    walked = []
    async with replicated.paused():
        await replicated.primary(
            "UPDATE pacer_accounts SET first_name = $1 WHERE id = $2", PROBE_NAME, account_id
        )
        for name, document, variables in every_mutation(api.app.state.view.service_schema._schema):
            if name == "signOut":
                continue
            # As if the caller had written nothing yet.
            await replicated.primary("UPDATE sessions SET write_lsn = NULL WHERE account_id = $1", account_id)
            me, reads = await reads_of(caplog, api, ME, court="mad", token=token)
            assert (me["me"]["firstName"], reads) == (old_name, "replica"), name
            response = await api.post(document, variables, court="mad", token=token)
            assert response.status_code == 200 and "data" in response.json(), (name, response.text)
            me, reads = await reads_of(caplog, api, ME, court="mad", token=token)
            assert (me["me"]["firstName"], reads) == (PROBE_NAME, "primary_own_write"), name
            walked.append(name)
    assert len(walked) >= 35 and "createFirm" in walked and "decideRegistration" in walked


# --- What each service's reads show its writer at once -----------------------------------------

QUEUE = (
    "query($s: RegistrationStatus) { registrations(first: 100, status: $s) { edges { node { id status } } } }"
)


def queue_ids(data: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in data["registrations"]["edges"]}


@postgres_only
async def test_registrations_a_clerks_decision_is_in_its_own_queue_at_once_not_yet_in_another_clerks(
    replicated: Replicated, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    api = replicated.api
    await grant_clerk(api.app.state.courts.current.serve("mad"), FILER[0])
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    other_clerk = await api.sign_in(*FILER)
    maria = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
    await replicated.caught_up()
    async with replicated.paused():
        submitted = await api.data(
            """mutation { submitRegistration(input: {role: MEDIA}) {
              registration { id status } errors { code message } } }""",
            court="mad",
            token=maria,
        )
        assert submitted["submitRegistration"]["errors"] == [], submitted
        registration = submitted["submitRegistration"]["registration"]["id"]
        # Neither clerk wrote: both read the replica, which has not the registration yet.
        for token in (clerk, other_clerk):
            pending, reads = await reads_of(
                caplog, api, QUEUE, variables={"s": "PENDING"}, court="mad", token=token
            )
            assert (registration in queue_ids(pending), reads) == (False, "replica")
        decided = await api.data(
            """mutation($id: ID!) { decideRegistration(input: {id: $id, approve: true}) {
              registration { status } errors { code message } } }""",
            {"id": registration},
            court="mad",
            token=clerk,
        )
        assert decided["decideRegistration"]["registration"]["status"] == "APPROVED", decided
        approved, reads = await reads_of(
            caplog, api, QUEUE, variables={"s": "APPROVED"}, court="mad", token=clerk
        )
        assert (registration in queue_ids(approved), reads) == (True, "primary_own_write")
        approved, reads = await reads_of(
            caplog, api, QUEUE, variables={"s": "APPROVED"}, court="mad", token=other_clerk
        )
        assert (registration in queue_ids(approved), reads) == (False, "replica")
    await replicated.caught_up()
    approved, reads = await reads_of(
        caplog, api, QUEUE, variables={"s": "APPROVED"}, court="mad", token=other_clerk
    )
    assert (registration in queue_ids(approved), reads) == (True, "replica")


FIRM = "{ me { firm { name admins { username } } auditEvents(first: 1) { edges { node { action } } } } }"


@postgres_only
@pytest.mark.parametrize("replica_options", [{}, {"compiled": False}], ids=["compiled", "reference"])
async def test_firms_and_audit_a_new_firm_and_its_audit_event_are_read_back_at_once(
    replicated: Replicated, caplog: pytest.LogCaptureFixture
) -> None:
    """The firm's administrators and the account's audit trail are data reads (the replica's
    when it has them); the membership is what permissions hang on (always the database's)."""
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    api = replicated.api
    maria = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
    await replicated.caught_up()
    async with replicated.paused():
        made = await api.data(
            'mutation { createFirm(input: {name: "Lopez Replica LLP"}) { errors { code } } }', token=maria
        )
        assert made["createFirm"]["errors"] == []
        me, reads = await reads_of(caplog, api, FIRM, token=maria)
        assert reads == "primary_own_write"
        assert me["me"]["firm"] == {"name": "Lopez Replica LLP", "admins": [{"username": "mlopez2018"}]}
        assert me["me"]["auditEvents"]["edges"][0]["node"]["action"] == "firm.create"
        # The replica has neither yet: read there, the answer would have missed both.
        assert await replicated.on_replica("SELECT id FROM firms WHERE name = 'Lopez Replica LLP'") == []


@postgres_only
async def test_accounts_an_upgrade_is_read_back_at_once(
    replicated: Replicated, caplog: pytest.LogCaptureFixture
) -> None:
    """The account's own columns are a data read (``me`` reads them after the session)."""
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    api = replicated.api
    laura = await api.sign_in("lp1234", "Boston2011!")
    await replicated.caught_up()
    async with replicated.paused():
        upgraded = await api.data(
            """mutation { upgradePacerAccount(input: {email: "laura@perezlaw.example", newUsername: "lauraperez",
              newPassword: "Velvet-Orchard-Sunrise-7"}) { errors { code } } }""",
            token=laura,
        )
        assert upgraded["upgradePacerAccount"]["errors"] == []
        me, reads = await reads_of(caplog, api, "{ me { username isLegacy } }", token=laura)
        assert (me["me"], reads) == ({"username": "lauraperez", "isLegacy": False}, "primary_own_write")
        assert (
            await replicated.on_replica("SELECT username FROM pacer_accounts WHERE username = 'lauraperez'")
            == []
        )


# --- What always reads the database ----------------------------------------------------------

#: The demo's attorney admitted pro hac vice at mad, who files in one case there.
PRO_HAC_VICE = ("rpatel2022", "Silver-Harbor-Docket-64")
CAN_FILE = '{ me { canFile(court: "mad", caseNumber: "1:25-cv-10234") } }'


@postgres_only
async def test_a_sign_out_and_revocations_take_effect_at_once_while_the_replica_lags(
    replicated: Replicated, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    api = replicated.api
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    filer = await api.sign_in(*PRO_HAC_VICE, redactionAcknowledged=True)
    leaving = await api.sign_in(*FILER)
    held = await api.data("{ me { privileges { id court { code } revokedAt } } }", token=filer)
    privilege = next(
        p["id"] for p in held["me"]["privileges"] if p["court"]["code"] == "mad" and not p["revokedAt"]
    )
    files = await api.data(CAN_FILE, token=filer)
    assert files["me"]["canFile"] is True
    made = await api.data(
        'mutation { createCourtServiceKey(input: {name: "replica", scopes: [READ_ROSTER]}) { key { id } secret } }',
        court="mad",
        token=clerk,
    )
    key_id, secret = made["createCourtServiceKey"]["key"]["id"], made["createCourtServiceKey"]["secret"]
    await api.data(ROSTER, court="mad", token=secret)
    await replicated.caught_up()
    async with replicated.paused():
        # Signed out: the token is refused at once (the session is read on the database).
        await api.data("mutation { signOut { ok } }", token=leaving)
        assert (await api.post(ME, token=leaving)).status_code == 401
        # A privilege revoked: its holder, who wrote nothing and reads the replica, files no more.
        revoked = await api.data(
            'mutation($id: ID!) { revokeFilingPrivilege(input: {id: $id, reason: "Suspended by the court."}) '
            "{ errors { code } } }",
            {"id": privilege},
            court="mad",
            token=clerk,
        )
        assert revoked["revokeFilingPrivilege"]["errors"] == []
        filing, reads = await reads_of(caplog, api, CAN_FILE, token=filer)
        assert (filing["me"]["canFile"], reads) == (False, "replica")
        # A service key revoked: refused at once.
        await api.data(
            "mutation($id: ID!) { revokeCourtServiceKey(id: $id) { ok } }",
            {"id": key_id},
            court="mad",
            token=clerk,
        )
        assert (await api.post(ROSTER, court="mad", token=secret)).status_code == 401
        # A clerkship withdrawn (nextgen-gql clerks revoke): the roster is refused at once.
        await revoke_clerk(api.app.state.courts.current.serve("mad"), CLERKS["mad"])
        refused = await api.gql(ROSTER, court="mad", token=clerk)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused


# --- A replica that stops, or lags ---------------------------------------------------------------


def _scrape_value(text: str, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and wanted <= set(sample.labels.items())
    )


async def metric(api: Api, name: str, **labels: str) -> float:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    return _scrape_value(response.text, name, **labels)


@postgres_only
async def test_a_stopped_replica_is_left_aside_and_taken_back_once_it_is_up(
    replicated: Replicated, replica_server: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    api = replicated.api
    folder, _ = replica_server
    token = await api.sign_in(*FILER)
    await replicated.caught_up()
    down_before = await metric(api, "nextgen_gql_replica_set_aside_total", reason="down")
    await asyncio.to_thread(_script, "down", folder)
    try:
        seen = []
        for _ in range(3):  # the service answers from the database
            me, reads = await reads_of(caplog, api, ME, token=token)
            assert me["me"]["username"] == FILER[0]
            seen.append(reads)
        # The first may find out by failing there (and be read again on the database).
        assert (
            seen[0] in ("primary_replica_failed", "primary_replica_away")
            and seen[1:] == ["primary_replica_away"] * 2
        )
        assert await metric(api, "nextgen_gql_replica_set_aside_total", reason="down") == down_before + 1
        assert await metric(api, "nextgen_gql_replica_in_use") == 0
        assert any("replica: left aside (down)" in r.getMessage() for r in caplog.records), caplog.text
    finally:
        await asyncio.to_thread(_script, "up", folder)
    await replicated.in_use()
    me, reads = await reads_of(caplog, api, ME, token=token)
    assert (me["me"]["username"], reads) == (FILER[0], "replica")
    assert await metric(api, "nextgen_gql_replica_in_use") == 1
    assert any(r.getMessage().startswith("replica: in use") for r in caplog.records)


@postgres_only
@pytest.mark.parametrize("replica_options", [{"replica_max_lag_ms": 500}])
async def test_a_replica_behind_by_more_than_the_setting_is_left_aside_until_it_catches_up(
    replicated: Replicated, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    api = replicated.api
    token = await api.sign_in(*FILER)
    ((account_id, old_name),) = await replicated.primary(
        "SELECT id, first_name FROM pacer_accounts WHERE username = $1", FILER[0]
    )
    await replicated.caught_up()
    lagging_before = await metric(api, "nextgen_gql_replica_set_aside_total", reason="lagging")
    loop = asyncio.get_running_loop()
    async with replicated.paused():
        # A change the replica will not replay; the reader wrote nothing (its reads may go there).
        await replicated.primary(
            "UPDATE pacer_accounts SET first_name = $1 WHERE id = $2", PROBE_NAME, account_id
        )
        until = loop.time() + 60
        while True:  # once the replica is 500 ms behind, reads go to the database
            me, reads = await reads_of(caplog, api, ME, token=token)
            if reads == "primary_replica_away":
                break
            assert (me["me"]["firstName"], reads) == (old_name, "replica")
            assert loop.time() < until, "the lagging replica was never left aside"
            await asyncio.sleep(0.1)
        assert me["me"]["firstName"] == PROBE_NAME
        replayed = await replicated.on_replica(
            "SELECT first_name FROM pacer_accounts WHERE id = $1", account_id
        )
        assert replayed[0][0] == old_name
        assert (
            await metric(api, "nextgen_gql_replica_set_aside_total", reason="lagging") == lagging_before + 1
        )
        assert await metric(api, "nextgen_gql_replica_lag_seconds") > 0.5
        assert any("replica: left aside (lagging)" in r.getMessage() for r in caplog.records)
    await replicated.caught_up()
    me, reads = await reads_of(caplog, api, ME, token=token)
    assert (me["me"]["firstName"], reads) == (PROBE_NAME, "replica")


@postgres_only
async def test_a_data_read_inside_a_transaction_stays_on_it(replicated: Replicated) -> None:
    """Routed to the replica, a data read still reads the transaction it runs in (what Tortoise's
    ``routers`` would send to the replica): it sees what the transaction wrote."""
    from tortoise.transactions import in_transaction

    from nextgen_gql.models import Firm
    from nextgen_gql.services import firms

    await replicated.caught_up()
    async with replicated.paused():
        with replica.query_reads():
            assert await replica.decide(None) == "replica"
            async with in_transaction() as conn:
                firm = await Firm.create(
                    account_number="9100001",
                    name="Inside LLP",
                    client_code_required=False,
                    created_at=dt.datetime.now(dt.UTC),
                    using_db=conn,
                )
                assert [f.name if f else None for f in await firms.firms_by_ids([firm.id])] == ["Inside LLP"]
            # Committed on the database; the replica, paused, has not replayed it.
            assert await firms.firms_by_ids([firm.id]) == [None]
            with replica.database_reads():
                assert [f.name if f else None for f in await firms.firms_by_ids([firm.id])] == ["Inside LLP"]
